#pragma once
// The audit trail's chain and seals, defined once for the store that writes them and for
// whoever checks them (`chartkeeper audit verify`, tools/verify_audit_export.py; the procedure
// is in docs/design/audit.md). Everything hashed or signed is ASCII:
//   hash(n) = hex(SHA-256( hash(n-1) "\n" n "\n" time(n) "\n" content(n) ))
// with hash(0) = 64 zeros, numbers in decimal; a seal signs (Ed25519)
//   "chartkeeper-audit " kind " " sequence " " hash " " time
// where kind is "checkpoint" or "head".
// Thread safety: pure functions.

#include <cstdint>
#include <string>
#include <string_view>

#include "store/resource_store.h"

namespace ck::store {

// The hash before the first record.
inline constexpr std::string_view kAuditGenesisHash = "0000000000000000000000000000000000000000000000000000000000000000";

// hash(n) from hash(n-1) and record n's sequence, time and content.
std::string AuditChainHash(std::string_view previous, std::int64_t sequence, Millis time, std::string_view content);

enum class SealKind { kCheckpoint, kHead };
// The message a seal's signature is over.
std::string AuditSealMessage(SealKind kind, const AuditSeal& seal);

}  // namespace ck::store
