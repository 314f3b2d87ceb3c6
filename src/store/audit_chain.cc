#include "store/audit_chain.h"

#include "util/crypto.h"

namespace ck::store {

std::string AuditChainHash(std::string_view previous, std::int64_t sequence, Millis time, std::string_view content) {
  std::string input;
  input.reserve(previous.size() + content.size() + 48);
  input.append(previous).append("\n").append(std::to_string(sequence)).append("\n").append(std::to_string(time)).append("\n");
  input.append(content);
  return Sha256Hex(input);
}

std::string AuditSealMessage(SealKind kind, const AuditSeal& seal) {
  return std::string("chartkeeper-audit ") + (kind == SealKind::kCheckpoint ? "checkpoint " : "head ") +
         std::to_string(seal.sequence) + " " + seal.hash + " " + std::to_string(seal.time);
}

}  // namespace ck::store
