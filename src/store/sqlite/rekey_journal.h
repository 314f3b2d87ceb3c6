#pragma once
// The rekey journal, <data>/rekey-journal: the pages a data key rotation is about to rewrite in
// place (store/sqlite/page_rekey.h), as they are stored (encrypted), written whole and synced
// before the first of them is touched, removed once they are rewritten and synced. After a power
// cut in the middle of a page's write, the copy here is what can be put back. The file: a magic
// line, the page count (8 bytes, big-endian), per page its number (8 bytes) and its stored bytes,
// then the SHA-256 of all that, so that a journal cut short is known for one.
// Thread safety: plain functions over the file system; one rotation at a time writes it.

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "util/status.h"

namespace ck::store::sqlite {

struct JournalPage {
  std::uint64_t number = 0;  // from 1
  std::string stored;        // kEncryptedPageSize bytes
};

std::filesystem::path RekeyJournalPath(const std::filesystem::path& data_dir);
// Writes the journal whole, durably (the file and its folder synced). Errors: kInternal.
Status WriteRekeyJournal(const std::filesystem::path& data_dir, const std::vector<JournalPage>& pages);
// The journal's pages; none when there is no journal, or one that is not whole (it was being
// written when the rotation stopped, so no page was touched yet). Errors: kInternal (unreadable).
Result<std::vector<JournalPage>> ReadRekeyJournal(const std::filesystem::path& data_dir);
// Removes it, durably. Errors: kInternal.
Status RemoveRekeyJournal(const std::filesystem::path& data_dir);

}  // namespace ck::store::sqlite
