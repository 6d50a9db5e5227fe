#include "net/send.hpp"

#include <algorithm>

namespace bakthat::net {

Response accept_or_raise(Response reply, const std::vector<long>& accept, const Judge& judge) {
  if (reply.status >= 200 && reply.status < 300) return reply;
  if (std::find(accept.begin(), accept.end(), reply.status) != accept.end()) return reply;
  judge(reply).raise();
}

retry::Policy cleanup_policy(retry::Policy policy) {
  if (!policy.cancel) return policy;
  if (policy.cancel->cancelled()) policy.max_attempts = 1;
  policy.cancel = nullptr;
  return policy;
}

}  // namespace bakthat::net
