// RemapLock: keeps LMDB's memory map in place while transactions use it.
//
// mdb_env_set_mapsize() unmaps and remaps the file, so no transaction of this
// process may be running while the map grows. Every transaction holds the
// lock shared; a resize takes it exclusively. Unlike std::shared_mutex (which
// on glibc prefers readers, so a steady stream of lookups could starve a
// resize forever) a pending resize stops new shared holders from entering.
// Shared acquisition is two atomic operations and never waits unless a
// resize is pending.
#ifndef BM_STORE_REMAP_LOCK_H_
#define BM_STORE_REMAP_LOCK_H_

#include <atomic>
#include <mutex>

namespace bm {

class RemapLock {
 public:
  void LockShared() {
    for (;;) {
      resizing_.wait(true);
      holders_.fetch_add(1);
      if (!resizing_.load()) return;
      Release();
    }
  }
  void UnlockShared() { Release(); }

  void LockExclusive() {
    resize_mu_.lock();
    resizing_.store(true);
    for (int n = holders_.load(); n != 0; n = holders_.load()) holders_.wait(n);
  }
  void UnlockExclusive() {
    resizing_.store(false);
    resizing_.notify_all();
    resize_mu_.unlock();
  }

 private:
  void Release() {
    if (holders_.fetch_sub(1) == 1 && resizing_.load()) holders_.notify_all();
  }
  std::atomic<int> holders_{0};
  std::atomic<bool> resizing_{false};
  std::mutex resize_mu_;  // one resize at a time
};

// RAII shared hold.
class SharedRemapHold {
 public:
  explicit SharedRemapHold(RemapLock& lock) : lock_(&lock) { lock_->LockShared(); }
  ~SharedRemapHold() { Unlock(); }
  SharedRemapHold(const SharedRemapHold&) = delete;
  SharedRemapHold& operator=(const SharedRemapHold&) = delete;
  void Unlock() {
    if (lock_ != nullptr) lock_->UnlockShared();
    lock_ = nullptr;
  }

 private:
  RemapLock* lock_;
};

}  // namespace bm

#endif  // BM_STORE_REMAP_LOCK_H_
