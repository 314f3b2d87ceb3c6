#include "store/sqlite/encrypted_vfs.h"

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <sqlite3.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstring>
#include <thread>

#include "util/log.h"

namespace ck::store::sqlite {
namespace {

constexpr int kPage = kEncryptedPageSize;
constexpr int kNonce = 12;
constexpr int kTag = 16;
constexpr int kBody = kPage - kEncryptionReserve;  // the bytes of a page that are SQLite's
constexpr int kHeaderBytes = 100;                  // SQLite's database header: read before anything else
constexpr int kWalHeader = 32;
constexpr int kFrameHeader = 24;
constexpr int kFrame = kFrameHeader + kPage;
static_assert(kEncryptionReserve == kNonce + kTag);

enum class FileKind : char { kDatabase = 'D', kWal = 'W' };

// The associated data of a page: a version tag, the kind of file, the page's place in it, and
// for the database's first page the readable header.
std::array<unsigned char, 12> PlaceOf(FileKind kind, std::uint64_t place) {
  std::array<unsigned char, 12> out{'c', 'k', '1', static_cast<unsigned char>(kind)};
  for (int i = 0; i < 8; ++i) out[4 + i] = static_cast<unsigned char>(place >> (56 - 8 * i));
  return out;
}

}  // namespace

struct EncryptedVfs::State {
  sqlite3_vfs vfs{};
  sqlite3_vfs* root = nullptr;
  sqlite3_io_methods methods{};
  std::string name;
  std::shared_ptr<DataKeyRing> keys;
  EVP_CIPHER* cipher = nullptr;
  // Nonces: a random 96-bit start per registration, then one more per page written, so no two
  // writes under this key share one within a process, and two processes would have to draw
  // overlapping ranges of a 2^96 space (docs/design/encryption.md).
  std::array<unsigned char, kNonce> nonce_start{};
  std::atomic<std::uint64_t> nonces_used{0};
  std::atomic<std::int64_t> integrity_failures{0};

  void NextNonce(unsigned char* out) {
    std::uint64_t n = nonces_used.fetch_add(1);
    std::memcpy(out, nonce_start.data(), kNonce);
    for (int i = kNonce - 1; i >= 0 && n != 0; --i) {  // out += n, big-endian, with carry
      const unsigned sum = out[i] + static_cast<unsigned>(n & 0xff);
      out[i] = static_cast<unsigned char>(sum);
      n = (n >> 8) + (sum >> 8);
    }
  }

  EVP_CIPHER_CTX* Context() {
    thread_local std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)> ctx(EVP_CIPHER_CTX_new(), &EVP_CIPHER_CTX_free);
    return ctx.get();
  }

  // Encrypts the page `in` (kPage bytes, of which the reserve is ignored) at `place` into `out`
  // (may be `in`) under the current data key. False when OpenSSL fails.
  bool Seal(FileKind kind, std::uint64_t place, const unsigned char* in, unsigned char* out) {
    const std::shared_ptr<const DataKeys> held = keys->keys();
    const Secret& key = *held->current;
    const int clear = kind == FileKind::kDatabase && place == 1 ? kHeaderBytes : 0;
    if (out != in) std::memcpy(out, in, clear);
    unsigned char* nonce = out + kBody;
    NextNonce(nonce);
    EVP_CIPHER_CTX* ctx = Context();
    const auto aad = PlaceOf(kind, place);
    int n = 0;
    return ctx != nullptr && EVP_EncryptInit_ex2(ctx, cipher, key.data(), nonce, nullptr) == 1 &&
           EVP_EncryptUpdate(ctx, nullptr, &n, aad.data(), static_cast<int>(aad.size())) == 1 &&
           EVP_EncryptUpdate(ctx, nullptr, &n, out, clear) == 1 &&
           EVP_EncryptUpdate(ctx, out + clear, &n, in + clear, kBody - clear) == 1 && EVP_EncryptFinal_ex(ctx, out + kBody, &n) == 1 &&
           EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, kTag, out + kBody + kNonce) == 1;
  }

  // Decrypts the stored page `stored` (kPage bytes) at `place` under `key` into `page` (may be
  // `stored`), its reserve zeroed. False when it does not authenticate.
  bool OpenUnder(const Secret& key, FileKind kind, std::uint64_t place, const unsigned char* stored, unsigned char* page) {
    const int clear = kind == FileKind::kDatabase && place == 1 ? kHeaderBytes : 0;
    std::array<unsigned char, kEncryptionReserve> reserve;
    std::memcpy(reserve.data(), stored + kBody, kEncryptionReserve);
    if (page != stored) std::memcpy(page, stored, clear);
    EVP_CIPHER_CTX* ctx = Context();
    const auto aad = PlaceOf(kind, place);
    int n = 0;
    const bool opened = ctx != nullptr && EVP_DecryptInit_ex2(ctx, cipher, key.data(), reserve.data(), nullptr) == 1 &&
                        EVP_DecryptUpdate(ctx, nullptr, &n, aad.data(), static_cast<int>(aad.size())) == 1 &&
                        EVP_DecryptUpdate(ctx, nullptr, &n, stored, clear) == 1 &&
                        EVP_DecryptUpdate(ctx, page + clear, &n, stored + clear, kBody - clear) == 1 &&
                        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, kTag, reserve.data() + kNonce) == 1 &&
                        EVP_DecryptFinal_ex(ctx, page + kBody, &n) == 1;
    std::memset(page + kBody, 0, kEncryptionReserve);
    return opened;
  }

  // Decrypts the stored page `stored` into `page` (not `stored`) under whichever of `held`'s keys
  // it authenticates under, and says which.
  EncryptedVfs::PageKey OpenUnderAny(const DataKeys& held, FileKind kind, std::uint64_t place, const unsigned char* stored,
                                     unsigned char* page) {
    if (OpenUnder(*held.current, kind, place, stored, page)) return EncryptedVfs::PageKey::kCurrent;
    for (const auto& key : held.previous) {
      if (OpenUnder(*key, kind, place, stored, page)) return EncryptedVfs::PageKey::kPrevious;
    }
    return EncryptedVfs::PageKey::kNone;
  }

  // Decrypts the stored page `page` (kPage bytes) at `place` in place, under whichever data key
  // it was written with. False when it authenticates under none (after a look at whether another
  // process rotated the data key).
  bool Open(FileKind kind, std::uint64_t place, unsigned char* page) {
    std::array<unsigned char, kPage> stored;
    std::memcpy(stored.data(), page, kPage);
    for (int attempt = 0; attempt < 2; ++attempt) {
      if (OpenUnderAny(*keys->keys(), kind, place, stored.data(), page) != EncryptedVfs::PageKey::kNone) return true;
      auto refreshed = keys->Refresh();
      if (!refreshed || !*refreshed) return false;
    }
    return false;
  }

  // Whether a data key rotation is under way (pages are being rewritten in place).
  bool Rotating() const { return !keys->keys()->previous.empty(); }
};

namespace {

using State = EncryptedVfs::State;

struct File {
  sqlite3_file base;
  State* state;
  FileKind kind;
  const char* path;  // SQLite keeps the name valid until xClose
};
constexpr std::size_t kRealOffset = (sizeof(File) + 7) / 8 * 8;

sqlite3_file* Real(sqlite3_file* file) { return reinterpret_cast<sqlite3_file*>(reinterpret_cast<char*>(file) + kRealOffset); }
File& Of(sqlite3_file* file) { return *reinterpret_cast<File*>(file); }

int RawRead(sqlite3_file* file, void* out, int amount, sqlite3_int64 offset) {
  sqlite3_file* real = Real(file);
  return real->pMethods->xRead(real, out, amount, offset);
}
int RawWrite(sqlite3_file* file, const void* in, int amount, sqlite3_int64 offset) {
  sqlite3_file* real = Real(file);
  return real->pMethods->xWrite(real, in, amount, offset);
}

int IntegrityFault(File& f, std::uint64_t place) {
  ++f.state->integrity_failures;
  CK_LOG_ERROR("integrity fault: {} {} of {} does not authenticate under the data key (the file was changed, or damaged)",
               f.kind == FileKind::kDatabase ? "page" : "the page of frame", place, f.path != nullptr ? f.path : "a database file");
  return SQLITE_IOERR_DATA;
}

bool AllZero(const unsigned char* bytes, std::size_t size) {
  return std::all_of(bytes, bytes + size, [](unsigned char b) { return b == 0; });
}

// Reads the stored page at `offset` (its place `place`) and decrypts it into `page`. A page
// wholly past the end of the file reads as zeros with SQLITE_IOERR_SHORT_READ, as SQLite expects;
// one that does not authenticate is SQLITE_IOERR_DATA (the caller reports it).
// While the data key is rotated, a page of the database may be read in the middle of its
// rewrite in place (store/sqlite/page_rekey.h): such a read is tried again before it counts.
int ReadPage(File& f, sqlite3_file* file, std::uint64_t place, sqlite3_int64 offset, unsigned char* page) {
  constexpr int kAttemptsWhileRotating = 4;
  for (int attempt = 1;; ++attempt) {
    int rc = RawRead(file, page, kPage, offset);
    if (rc == SQLITE_IOERR_SHORT_READ && AllZero(page, kPage)) return rc;
    if (rc != SQLITE_OK && rc != SQLITE_IOERR_SHORT_READ) return rc;
    if (rc == SQLITE_OK && f.state->Open(f.kind, place, page)) return SQLITE_OK;
    if (f.kind != FileKind::kDatabase || attempt == kAttemptsWhileRotating || !f.state->Rotating()) return SQLITE_IOERR_DATA;
    std::this_thread::sleep_for(std::chrono::milliseconds(attempt));
  }
}

// A read of [offset, offset + amount) of the page stored at `page_offset` (`place`), whole or
// in part.
int ReadFromPage(File& f, sqlite3_file* file, std::uint64_t place, sqlite3_int64 page_offset, unsigned char* out, int amount,
                 sqlite3_int64 offset) {
  if (offset == page_offset && amount == kPage) return ReadPage(f, file, place, page_offset, out);
  std::array<unsigned char, kPage> page;
  const int rc = ReadPage(f, file, place, page_offset, page.data());
  if (rc != SQLITE_OK && rc != SQLITE_IOERR_SHORT_READ) return rc;
  std::memcpy(out, page.data() + (offset - page_offset), static_cast<std::size_t>(amount));
  return rc;
}

int DatabaseRead(File& f, sqlite3_file* file, unsigned char* out, int amount, sqlite3_int64 offset) {
  if (offset + amount <= kHeaderBytes) return RawRead(file, out, amount, offset);
  int result = SQLITE_OK;
  while (amount > 0) {
    const sqlite3_int64 page_offset = offset / kPage * kPage;
    const int piece = static_cast<int>(std::min<sqlite3_int64>(amount, page_offset + kPage - offset));
    const auto place = static_cast<std::uint64_t>(page_offset / kPage + 1);
    const int rc = ReadFromPage(f, file, place, page_offset, out, piece, offset);
    if (rc == SQLITE_IOERR_DATA) return IntegrityFault(f, place);
    if (rc != SQLITE_OK && rc != SQLITE_IOERR_SHORT_READ) return rc;
    if (rc != SQLITE_OK) result = rc;
    out += piece;
    offset += piece;
    amount -= piece;
  }
  return result;
}

int DatabaseWrite(File& f, sqlite3_file* file, const unsigned char* in, int amount, sqlite3_int64 offset) {
  if (amount != kPage || offset % kPage != 0) {
    CK_LOG_ERROR("the encrypting VFS was asked to write {} bytes at {} of {}: only whole pages can be encrypted", amount, offset, f.path);
    return SQLITE_IOERR_WRITE;
  }
  std::array<unsigned char, kPage> page;
  if (!f.state->Seal(f.kind, static_cast<std::uint64_t>(offset / kPage + 1), in, page.data())) return SQLITE_IOERR_WRITE;
  return RawWrite(file, page.data(), kPage, offset);
}

// The write-ahead log: a 32-byte header, then frames of a 24-byte header and a page. Headers
// hold SQLite's bookkeeping (page numbers, salts, checksums) and stay readable; pages are
// encrypted, placed by their frame's number.
struct WalPiece {
  bool page;                  // part of a frame's page, else of a header
  std::uint64_t frame;        // for a page: its frame's number
  sqlite3_int64 page_offset;  // for a page: where it starts
  int size;                   // bytes from the piece's offset
};
WalPiece WalPieceAt(sqlite3_int64 offset, int amount) {
  if (offset < kWalHeader) return {false, 0, 0, static_cast<int>(std::min<sqlite3_int64>(amount, kWalHeader - offset))};
  const auto frame = static_cast<std::uint64_t>((offset - kWalHeader) / kFrame);
  const sqlite3_int64 frame_offset = kWalHeader + static_cast<sqlite3_int64>(frame) * kFrame;
  const sqlite3_int64 page_offset = frame_offset + kFrameHeader;
  if (offset < page_offset) return {false, 0, 0, static_cast<int>(std::min<sqlite3_int64>(amount, page_offset - offset))};
  return {true, frame, page_offset, static_cast<int>(std::min<sqlite3_int64>(amount, page_offset + kPage - offset))};
}

int WalRead(File& f, sqlite3_file* file, unsigned char* out, int amount, sqlite3_int64 offset) {
  // Recovery after a crash reads whole frames, header first, and takes the first whose checksum
  // fails as the end of the log: a frame whose page does not authenticate (a write torn by the
  // crash, or a change to the file) is handed over as zeros, so it ends the log there.
  const bool whole_frame = amount == kFrame && (offset - kWalHeader) % kFrame == 0;
  int result = SQLITE_OK;
  while (amount > 0) {
    const WalPiece piece = WalPieceAt(offset, amount);
    int rc = piece.page ? ReadFromPage(f, file, piece.frame, piece.page_offset, out, piece.size, offset)
                        : RawRead(file, out, piece.size, offset);
    if (rc == SQLITE_IOERR_DATA && whole_frame) {
      CK_LOG_WARN("frame {} of {} does not authenticate; the write-ahead log is taken to end before it", piece.frame, f.path);
      std::memset(out, 0, static_cast<std::size_t>(piece.size));
      rc = SQLITE_OK;
    } else if (rc == SQLITE_IOERR_DATA) {
      return IntegrityFault(f, piece.frame);
    }
    if (rc != SQLITE_OK && rc != SQLITE_IOERR_SHORT_READ) return rc;
    if (rc != SQLITE_OK) result = rc;
    out += piece.size;
    offset += piece.size;
    amount -= piece.size;
  }
  return result;
}

int WalWrite(File& f, sqlite3_file* file, const unsigned char* in, int amount, sqlite3_int64 offset) {
  while (amount > 0) {
    const WalPiece piece = WalPieceAt(offset, amount);
    int rc = SQLITE_OK;
    if (!piece.page) {
      rc = RawWrite(file, in, piece.size, offset);
    } else if (piece.size != kPage || offset != piece.page_offset) {
      CK_LOG_ERROR("the encrypting VFS was asked to write part of a page of {}: only whole pages can be encrypted", f.path);
      rc = SQLITE_IOERR_WRITE;
    } else {
      std::array<unsigned char, kPage> page;
      rc = f.state->Seal(f.kind, piece.frame, in, page.data()) ? RawWrite(file, page.data(), kPage, offset) : SQLITE_IOERR_WRITE;
    }
    if (rc != SQLITE_OK) return rc;
    in += piece.size;
    offset += piece.size;
    amount -= piece.size;
  }
  return SQLITE_OK;
}

const char* KindOfFile(int flags) {
  if (flags & SQLITE_OPEN_MAIN_JOURNAL) return "rollback journal";
  if (flags & SQLITE_OPEN_SUPER_JOURNAL) return "super-journal";
  if (flags & SQLITE_OPEN_SUBJOURNAL) return "statement journal";
  return "temporary file";
}

int OpenFile(sqlite3_vfs* vfs, sqlite3_filename name, sqlite3_file* file, int flags, int* out_flags) {
  State& state = *static_cast<State*>(vfs->pAppData);
  File& f = Of(file);
  f = File{};
  if ((flags & (SQLITE_OPEN_MAIN_DB | SQLITE_OPEN_WAL)) == 0) {
    CK_LOG_ERROR("the encrypting VFS refused to create a {} (it would hold data in the clear): the store keeps those in memory",
                 KindOfFile(flags));
    return SQLITE_CANTOPEN;
  }
  const int rc = state.root->xOpen(state.root, name, Real(file), flags, out_flags);
  if (rc != SQLITE_OK) return rc;
  f.base.pMethods = &state.methods;
  f.state = &state;
  f.kind = (flags & SQLITE_OPEN_MAIN_DB) != 0 ? FileKind::kDatabase : FileKind::kWal;
  f.path = name;
  return SQLITE_OK;
}

// SQLite's write lock and checkpoint lock (the first two of its shared-memory locks): whoever
// takes one is about to write pages, so it first makes sure it holds the current data key (another
// process may have rotated it). A process that cannot get the current key does not write.
constexpr int kWalWriteLock = 0, kWalCheckpointLock = 1;

int ShmLock(sqlite3_file* file, int offset, int n, int flags) {
  sqlite3_file* real = Real(file);
  const int rc = real->pMethods->xShmLock(real, offset, n, flags);
  const bool writes = (flags & SQLITE_SHM_LOCK) != 0 && (flags & SQLITE_SHM_EXCLUSIVE) != 0 && offset <= kWalCheckpointLock &&
                      offset + n > kWalWriteLock;
  if (rc != SQLITE_OK || !writes) return rc;
  if (auto refreshed = Of(file).state->keys->Refresh(); !refreshed) {
    CK_LOG_ERROR("{}: nothing is written", refreshed.error().message());
    real->pMethods->xShmLock(real, offset, n, SQLITE_SHM_UNLOCK | SQLITE_SHM_EXCLUSIVE);
    return SQLITE_IOERR_SHMLOCK;
  }
  return SQLITE_OK;
}

void InstallMethods(sqlite3_io_methods& m) {
  m.iVersion = 2;  // no xFetch: memory-mapped reads would bypass decryption
  m.xClose = [](sqlite3_file* file) { return Real(file)->pMethods->xClose(Real(file)); };
  m.xRead = [](sqlite3_file* file, void* out, int amount, sqlite3_int64 offset) {
    File& f = Of(file);
    auto* bytes = static_cast<unsigned char*>(out);
    return f.kind == FileKind::kDatabase ? DatabaseRead(f, file, bytes, amount, offset) : WalRead(f, file, bytes, amount, offset);
  };
  m.xWrite = [](sqlite3_file* file, const void* in, int amount, sqlite3_int64 offset) {
    File& f = Of(file);
    const auto* bytes = static_cast<const unsigned char*>(in);
    return f.kind == FileKind::kDatabase ? DatabaseWrite(f, file, bytes, amount, offset) : WalWrite(f, file, bytes, amount, offset);
  };
  m.xTruncate = [](sqlite3_file* file, sqlite3_int64 size) { return Real(file)->pMethods->xTruncate(Real(file), size); };
  m.xSync = [](sqlite3_file* file, int flags) { return Real(file)->pMethods->xSync(Real(file), flags); };
  m.xFileSize = [](sqlite3_file* file, sqlite3_int64* size) { return Real(file)->pMethods->xFileSize(Real(file), size); };
  m.xLock = [](sqlite3_file* file, int lock) { return Real(file)->pMethods->xLock(Real(file), lock); };
  m.xUnlock = [](sqlite3_file* file, int lock) { return Real(file)->pMethods->xUnlock(Real(file), lock); };
  m.xCheckReservedLock = [](sqlite3_file* file, int* out) { return Real(file)->pMethods->xCheckReservedLock(Real(file), out); };
  m.xFileControl = [](sqlite3_file* file, int op, void* arg) {
    if (op == SQLITE_FCNTL_MMAP_SIZE) {  // keep reads going through xRead
      if (arg != nullptr) *static_cast<sqlite3_int64*>(arg) = 0;
      return SQLITE_OK;
    }
    return Real(file)->pMethods->xFileControl(Real(file), op, arg);
  };
  m.xSectorSize = [](sqlite3_file* file) { return Real(file)->pMethods->xSectorSize(Real(file)); };
  m.xDeviceCharacteristics = [](sqlite3_file* file) { return Real(file)->pMethods->xDeviceCharacteristics(Real(file)); };
  m.xShmMap = [](sqlite3_file* file, int region, int size, int extend, void volatile** out) {
    return Real(file)->pMethods->xShmMap(Real(file), region, size, extend, out);
  };
  m.xShmLock = &ShmLock;
  m.xShmBarrier = [](sqlite3_file* file) { Real(file)->pMethods->xShmBarrier(Real(file)); };
  m.xShmUnmap = [](sqlite3_file* file, int remove) { return Real(file)->pMethods->xShmUnmap(Real(file), remove); };
}

std::atomic<int> registrations{0};

}  // namespace

Result<std::unique_ptr<EncryptedVfs>> EncryptedVfs::Register(std::shared_ptr<DataKeyRing> keys, const std::string& root) {
  if (keys == nullptr) return Err(Status::Invalid("no data key"));
  const std::shared_ptr<const DataKeys> held = keys->keys();
  const auto wrong_size = [](const std::shared_ptr<const Secret>& key) { return key == nullptr || key->size() != 32; };
  if (wrong_size(held->current) || std::any_of(held->previous.begin(), held->previous.end(), wrong_size)) {
    return Err(Status::Invalid("a data key must be 32 bytes"));
  }
  auto state = std::make_unique<State>();
  state->keys = std::move(keys);
  state->root = sqlite3_vfs_find(root.empty() ? nullptr : root.c_str());
  if (state->root == nullptr) return Err(Status::Invalid("SQLite has no VFS named '" + root + "'"));
  if (RAND_bytes(state->nonce_start.data(), kNonce) != 1) return Err(Status::Internal("the system's random number generator failed"));
  state->cipher = EVP_CIPHER_fetch(nullptr, "AES-256-GCM", nullptr);
  if (state->cipher == nullptr) return Err(Status::Internal("OpenSSL has no AES-256-GCM"));
  state->name = "chartkeeper-encrypted-" + std::to_string(++registrations);
  InstallMethods(state->methods);
  state->vfs = *state->root;
  state->vfs.iVersion = std::min(state->root->iVersion, 3);
  state->vfs.zName = state->name.c_str();
  state->vfs.szOsFile = static_cast<int>(kRealOffset) + state->root->szOsFile;
  state->vfs.pAppData = state.get();
  state->vfs.xOpen = &OpenFile;
  state->vfs.pNext = nullptr;
  if (sqlite3_vfs_register(&state->vfs, 0) != SQLITE_OK) {
    EVP_CIPHER_free(state->cipher);
    return Err(Status::Internal("SQLite refused to register the encrypting VFS"));
  }
  return std::unique_ptr<EncryptedVfs>(new EncryptedVfs(std::move(state)));
}

EncryptedVfs::EncryptedVfs(std::unique_ptr<State> state)
    : state_(std::move(state)), name_(state_->name), integrity_failures_(state_->integrity_failures) {}

EncryptedVfs::~EncryptedVfs() {
  sqlite3_vfs_unregister(&state_->vfs);
  EVP_CIPHER_free(state_->cipher);
}

EncryptedVfs::PageKey EncryptedVfs::KeyOfStoredPage(std::uint64_t page_number, const unsigned char* stored) const {
  std::array<unsigned char, kPage> page;
  return state_->OpenUnderAny(*state_->keys->keys(), FileKind::kDatabase, page_number, stored, page.data());
}

bool EncryptedVfs::Reseal(std::uint64_t page_number, unsigned char* stored) const {
  std::array<unsigned char, kPage> page;
  return state_->OpenUnderAny(*state_->keys->keys(), FileKind::kDatabase, page_number, stored, page.data()) != PageKey::kNone &&
         state_->Seal(FileKind::kDatabase, page_number, page.data(), stored);
}

int EncryptedVfs::ReadStoredPage(sqlite3_file* file, std::uint64_t page_number, unsigned char* stored) {
  return RawRead(file, stored, kPage, static_cast<sqlite3_int64>(page_number - 1) * kPage);
}

int EncryptedVfs::WriteStoredPage(sqlite3_file* file, std::uint64_t page_number, const unsigned char* stored) {
  return RawWrite(file, stored, kPage, static_cast<sqlite3_int64>(page_number - 1) * kPage);
}

}  // namespace ck::store::sqlite
