// Sending a request, the one way every client of this part does it (the S3,
// Glacier and Swift destinations, the sync server's client): an attempt
// performs the request (built afresh: a signature carries its time) and
// accept_or_raise() accepts its reply or raises the protocol's failure;
// retry::run, the decorator around the attempt, repeats it while the
// failure is transient.
#pragma once

#include <functional>
#include <vector>

#include "net/http.hpp"
#include "net/retry.hpp"

namespace bakthat::net {

// How a protocol reads a reply it does not accept: what failed, and whether
// another attempt may help.
using Judge = std::function<retry::Failure(const Response&)>;

// `reply` when its status is 2xx or one of `accept`; otherwise what `judge`
// makes of it, raised (a retry::TransientError when another attempt may help).
Response accept_or_raise(Response reply, const std::vector<long>& accept, const Judge& judge);

// The policy of a clean-up after a failure (aborting an upload): the
// cancellation that may have caused the failure does not stop it, and once
// cancelled it gets one attempt.
retry::Policy cleanup_policy(retry::Policy policy);

}  // namespace bakthat::net
