#pragma once
// An SQLite VFS shim for storage fault tests: it forwards everything to the default VFS, and
// fails the writes or syncs of write-ahead-log files that a test arms, with an I/O error or a
// full disk, until the test clears the fault. Registered under kFaultVfs; kNoSharedMemoryVfs is
// the same shim without shared-memory methods (as on file systems where WAL mode cannot work).
// Thread safety: arming and clearing are atomic; SQLite calls the shim from any thread.

#include <sqlite3.h>

#include <atomic>
#include <cstring>

namespace ck::testing {

inline constexpr const char* kFaultVfs = "chartkeeper-test-fault";
inline constexpr const char* kNoSharedMemoryVfs = "chartkeeper-test-no-shm";

enum class Fault { kNone, kIoError, kDiskFull };

class FaultVfs {
 public:
  // Registers both VFSes once (idempotent) and returns the controller.
  static FaultVfs& Instance() {
    static FaultVfs instance;
    return instance;
  }

  // From now on, WAL writes fail with `fault` after `skip` more succeed.
  void FailWalWrites(Fault fault, int skip = 0) {
    write_skip_ = skip;
    write_fault_ = fault;
  }
  // From now on, syncs of the WAL fail with an I/O error.
  void FailWalSyncs() { sync_fails_ = true; }
  void Clear() {
    write_fault_ = Fault::kNone;
    sync_fails_ = false;
  }
  // Faults injected since the last call.
  int TakeInjected() { return injected_.exchange(0); }

 private:
  struct File {
    sqlite3_file base;
    sqlite3_file* real;
    bool wal;
  };

  FaultVfs() {
    default_ = sqlite3_vfs_find(nullptr);
    Register(vfs_, kFaultVfs, methods_, default_->iVersion);
    Register(no_shm_vfs_, kNoSharedMemoryVfs, no_shm_methods_, 1);
  }

  void Register(sqlite3_vfs& vfs, const char* name, sqlite3_io_methods& methods, int io_version) {
    vfs = *default_;
    vfs.zName = name;
    vfs.szOsFile = static_cast<int>(sizeof(File)) + default_->szOsFile;
    vfs.pAppData = &methods;
    vfs.xOpen = &Open;
    methods = {};
    methods.iVersion = io_version;
    methods.xClose = [](sqlite3_file* f) {
      sqlite3_file* real = Real(f);
      int rc = real->pMethods->xClose(real);
      return rc;
    };
    methods.xRead = [](sqlite3_file* f, void* buffer, int amount, sqlite3_int64 offset) {
      return Real(f)->pMethods->xRead(Real(f), buffer, amount, offset);
    };
    methods.xWrite = [](sqlite3_file* f, const void* buffer, int amount, sqlite3_int64 offset) {
      FaultVfs& self = Instance();
      if (reinterpret_cast<File*>(f)->wal && self.write_fault_ != Fault::kNone && self.write_skip_-- <= 0) {
        ++self.injected_;
        return self.write_fault_ == Fault::kDiskFull ? SQLITE_FULL : SQLITE_IOERR_WRITE;
      }
      return Real(f)->pMethods->xWrite(Real(f), buffer, amount, offset);
    };
    methods.xTruncate = [](sqlite3_file* f, sqlite3_int64 size) { return Real(f)->pMethods->xTruncate(Real(f), size); };
    methods.xSync = [](sqlite3_file* f, int flags) {
      FaultVfs& self = Instance();
      if (reinterpret_cast<File*>(f)->wal && self.sync_fails_) {
        ++self.injected_;
        return SQLITE_IOERR_FSYNC;
      }
      return Real(f)->pMethods->xSync(Real(f), flags);
    };
    methods.xFileSize = [](sqlite3_file* f, sqlite3_int64* size) { return Real(f)->pMethods->xFileSize(Real(f), size); };
    methods.xLock = [](sqlite3_file* f, int level) { return Real(f)->pMethods->xLock(Real(f), level); };
    methods.xUnlock = [](sqlite3_file* f, int level) { return Real(f)->pMethods->xUnlock(Real(f), level); };
    methods.xCheckReservedLock = [](sqlite3_file* f, int* out) { return Real(f)->pMethods->xCheckReservedLock(Real(f), out); };
    methods.xFileControl = [](sqlite3_file* f, int op, void* arg) { return Real(f)->pMethods->xFileControl(Real(f), op, arg); };
    methods.xSectorSize = [](sqlite3_file* f) { return Real(f)->pMethods->xSectorSize(Real(f)); };
    methods.xDeviceCharacteristics = [](sqlite3_file* f) { return Real(f)->pMethods->xDeviceCharacteristics(Real(f)); };
    if (io_version >= 2) {
      methods.xShmMap = [](sqlite3_file* f, int page, int size, int extend, void volatile** out) {
        return Real(f)->pMethods->xShmMap(Real(f), page, size, extend, out);
      };
      methods.xShmLock = [](sqlite3_file* f, int offset, int n, int flags) {
        return Real(f)->pMethods->xShmLock(Real(f), offset, n, flags);
      };
      methods.xShmBarrier = [](sqlite3_file* f) { Real(f)->pMethods->xShmBarrier(Real(f)); };
      methods.xShmUnmap = [](sqlite3_file* f, int remove) { return Real(f)->pMethods->xShmUnmap(Real(f), remove); };
    }
    if (io_version >= 3) {
      methods.xFetch = [](sqlite3_file* f, sqlite3_int64 offset, int amount, void** out) {
        return Real(f)->pMethods->xFetch(Real(f), offset, amount, out);
      };
      methods.xUnfetch = [](sqlite3_file* f, sqlite3_int64 offset, void* p) {
        return Real(f)->pMethods->xUnfetch(Real(f), offset, p);
      };
    }
    sqlite3_vfs_register(&vfs, 0);
  }

  static sqlite3_file* Real(sqlite3_file* f) { return reinterpret_cast<File*>(f)->real; }

  static int Open(sqlite3_vfs* vfs, const char* name, sqlite3_file* f, int flags, int* out_flags) {
    FaultVfs& self = Instance();
    File* file = reinterpret_cast<File*>(f);
    std::memset(file, 0, sizeof(File));
    file->real = reinterpret_cast<sqlite3_file*>(file + 1);
    file->wal = (flags & SQLITE_OPEN_WAL) != 0;
    int rc = self.default_->xOpen(self.default_, name, file->real, flags, out_flags);
    if (rc != SQLITE_OK) return rc;
    // SQLite leaves pMethods null when the open failed; a shim file must look the same.
    file->base.pMethods = file->real->pMethods != nullptr ? static_cast<sqlite3_io_methods*>(vfs->pAppData) : nullptr;
    return rc;
  }

  sqlite3_vfs* default_ = nullptr;
  sqlite3_vfs vfs_{};
  sqlite3_vfs no_shm_vfs_{};
  sqlite3_io_methods methods_{};
  sqlite3_io_methods no_shm_methods_{};
  std::atomic<Fault> write_fault_{Fault::kNone};
  std::atomic<int> write_skip_{0};
  std::atomic<bool> sync_fails_{false};
  std::atomic<int> injected_{0};
};

}  // namespace ck::testing
