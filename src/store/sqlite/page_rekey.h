#pragma once
// Rotating the data key online (docs/design/encryption.md, "Data key rotation"): once
// BeginDataKeyRotation (store/data_key.h) has made a new current key, every page of the database
// file still under an older key is rewritten in place under the new one while other processes go
// on reading and writing. The file is rewritten a chunk at a time under SQLite's checkpoint lock,
// so no checkpoint writes it meanwhile (and every writer and checkpointer takes up the new key
// before it writes, encrypted_vfs.h); a reader that catches a page mid-rewrite reads it again.
// Before a chunk is touched, its stored pages go to the rekey journal (rekey_journal.h), so that
// a power cut in the middle of a page's write can be repaired (RestoreTornPages). The write-ahead
// log is then checkpointed and truncated, leaving no frame under an older key, and a last pass
// checks every page before the caller drops the old key. Memory: one chunk (1 MiB).
// Thread safety: one rotation per folder at a time (the caller's business); other processes and
// threads use the database as usual.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>

#include "store/data_key.h"
#include "store/sqlite/encrypted_vfs.h"
#include "util/status.h"

namespace ck::store::sqlite {

struct RekeyProgress {
  std::uint64_t pages = 0;      // in the file now
  std::uint64_t checked = 0;    // pages looked at in this pass
  std::uint64_t rewritten = 0;  // in this pass
  int pass = 1;                 // 1 rewrites; later passes check (and would rewrite what was missed)
};

// Re-encrypts the database of `data_dir` under `keys`' current key. `progress` is called after
// each chunk; returning false stops the rotation there (run again, it resumes). Errors:
// kNotFound (no database), kUnavailable (stopped; SQLite's checkpoint lock or a full checkpoint
// could not be had for a minute: a long reader or a stuck process), kCorrupt (a page that
// authenticates under none of the keys), kInternal (I/O).
Status ReencryptDatabase(const std::filesystem::path& data_dir, std::shared_ptr<DataKeyRing> keys,
                         const std::function<bool(const RekeyProgress&)>& progress);

// If a rotation stopped in the middle of a chunk (the rekey journal is there), puts back each of
// the chunk's pages that authenticates under no key (its write was torn by a power cut), then
// removes the journal. The store calls it before it opens a database for writing. Errors:
// kCorrupt (the journal holds a page that authenticates under no key either), kInternal (I/O).
Status RestoreTornPages(const std::filesystem::path& data_dir, const EncryptedVfs& vfs);

}  // namespace ck::store::sqlite
