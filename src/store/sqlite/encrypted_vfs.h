#pragma once
// Page-level encryption of the embedded database (docs/design/encryption.md): an SQLite VFS
// shim over the platform's VFS that encrypts every page of the database file and of its
// write-ahead log with AES-256-GCM under the data folder's data key. Each page write gets a
// fresh nonce; the nonce and the tag sit in the page's reserved bytes (kEncryptionReserve, which
// SQLite leaves to extensions); the page's place (the database's page number, or the log's frame
// offset) is authenticated with it, so a page moved, swapped or altered fails to decrypt. The
// first 100 bytes of the database (SQLite's header, no data) stay readable so that SQLite can
// open the file, and are authenticated with page 1. Any other file SQLite would write (rollback
// journals, temporary files) is refused: the store keeps those in memory (temp_store = MEMORY)
// and runs in WAL mode.
// A page that fails to authenticate is an integrity fault: the read fails (SQLITE_IOERR_DATA),
// the fault is logged and counted, never answered with wrong data.
// The keys come from a DataKeyRing (store/data_key.h): pages are written under its current key
// and read under whichever of its keys they were written with; before taking SQLite's write or
// checkpoint lock, and when a page authenticates under none, the shim asks the ring to look
// for a data key rotated by another process (store/sqlite/page_rekey.h).
// Thread safety: SQLite calls the shim from any thread; the ring is shared.

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "store/data_key.h"
#include "util/status.h"

struct sqlite3_file;

namespace ck::store::sqlite {

inline constexpr int kEncryptedPageSize = 4096;
inline constexpr int kEncryptionReserve = 28;  // per page: a 12-byte nonce and a 16-byte tag

class EncryptedVfs {
 public:
  // Registers a VFS of its own name that encrypts with `keys` (of 32 bytes) above the VFS named
  // `root` (empty: the platform's). Errors: kInvalid (a key of another size, no such VFS),
  // kInternal (SQLite refused the registration).
  static Result<std::unique_ptr<EncryptedVfs>> Register(std::shared_ptr<DataKeyRing> keys, const std::string& root = "");
  // Unregisters it. REQUIRES: no connection still uses it.
  ~EncryptedVfs();
  EncryptedVfs(const EncryptedVfs&) = delete;
  EncryptedVfs& operator=(const EncryptedVfs&) = delete;

  // The name to open connections with (sqlite3_open_v2's zVfs).
  const std::string& name() const { return name_; }
  // Pages that failed to authenticate since the VFS was registered.
  std::int64_t integrity_failures() const { return integrity_failures_.load(); }

  // Stored pages of a database file `file` opened through this VFS (as SQLITE_FCNTL_FILE_POINTER
  // gives it), for the data key's rotation: read and written as they are on disk, page numbers
  // from 1, SQLite result codes.
  enum class PageKey { kCurrent, kPrevious, kNone };
  PageKey KeyOfStoredPage(std::uint64_t page_number, const unsigned char* stored) const;
  // Decrypts the stored page under the key it was written with and encrypts it under the current
  // key, in place. False when it authenticates under none.
  bool Reseal(std::uint64_t page_number, unsigned char* stored) const;
  static int ReadStoredPage(sqlite3_file* file, std::uint64_t page_number, unsigned char* stored);
  static int WriteStoredPage(sqlite3_file* file, std::uint64_t page_number, const unsigned char* stored);

  struct State;  // what the C callbacks reach through sqlite3_vfs::pAppData

 private:
  explicit EncryptedVfs(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
  std::string name_;
  std::atomic<std::int64_t>& integrity_failures_;
};

}  // namespace ck::store::sqlite
