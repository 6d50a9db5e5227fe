#include "storage/transfer/parallel_upload.hpp"

#include <algorithm>

#include "storage/transfer/drain.hpp"

namespace bakthat::storage::transfer {

ParallelUploadWriter::ParallelUploadWriter(std::unique_ptr<PartUpload> upload, std::string name, int threads,
                                           bool eager)
    : upload_(std::move(upload)), name_(std::move(name)), threads_(std::max(1, threads)), eager_(eager) {
  // Untouched pages of a reservation cost nothing, and a full reservation
  // avoids copying as the part fills.
  buffer_.reserve(upload_->part_size(0));
}

ParallelUploadWriter::~ParallelUploadWriter() {
  if (finished_) return;
  cancel_ = true;
  drain(in_flight_);
  upload_->abort(started_);
}

void ParallelUploadWriter::write(Bytes data) {
  while (!data.empty()) {
    if (!eager_ && buffer_.size() == upload_->part_size(started_)) ship();
    std::uint64_t room = upload_->part_size(started_) - buffer_.size();
    std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(room, data.size()));
    buffer_.append(data.first(n));
    data = data.subspan(n);
    size_ += n;
    if (eager_ && buffer_.size() == upload_->part_size(started_)) ship();
  }
}

void ParallelUploadWriter::finish() {
  if (started_ == 0) {
    stored_.provider_id = upload_->put_whole(buffer_);
  } else {
    if (!buffer_.empty()) ship();
    while (!in_flight_.empty()) collect_oldest();
    stored_.provider_id = upload_->complete(parts_);
  }
  stored_.name = name_;
  stored_.size = size_;
  finished_ = true;
}

void ParallelUploadWriter::ship() {
  upload_->before_part(started_);
  while (static_cast<int>(in_flight_.size()) >= threads_) collect_oldest();
  int index = started_++;
  in_flight_.push_back(std::async(std::launch::async, [this, index, body = std::move(buffer_)]() mutable {
    UploadedPart part{index, body.size(), upload_->upload_part(index, body, cancel_)};
    return Shipped{std::move(part), std::move(body)};
  }));
  take_buffer();
}

void ParallelUploadWriter::take_buffer() {
  if (spare_.empty()) {
    buffer_ = {};
  } else {
    buffer_ = std::move(spare_.back());
    spare_.pop_back();
    buffer_.clear();
  }
  buffer_.reserve(upload_->part_size(started_));
}

void ParallelUploadWriter::collect_oldest() {
  auto shipped = std::move(in_flight_.front());
  in_flight_.pop_front();
  Shipped done = shipped.get();
  parts_.push_back(std::move(done.part));
  spare_.push_back(std::move(done.buffer));
}

}  // namespace bakthat::storage::transfer
