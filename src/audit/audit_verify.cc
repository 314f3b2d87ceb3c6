#include "audit/audit_verify.h"

#include <algorithm>
#include <map>
#include <optional>
#include <vector>

#include "store/audit_chain.h"

namespace ck::audit {
namespace {

constexpr std::size_t kPage = 8192;
constexpr std::size_t kLookahead = 1024;  // rows searched for a record moved elsewhere

bool Chains(std::string_view previous, std::int64_t sequence, const store::AuditRecord& row) {
  return store::AuditChainHash(previous, sequence, row.time, row.content) == row.hash;
}

VerifyReport& Broken(VerifyReport& report, Break kind, std::int64_t first_bad, std::string message) {
  report.broken = kind;
  report.first_bad = first_bad;
  report.message = std::move(message);
  return report;
}

class Verifier {
 public:
  Verifier(store::ResourceStore& store, const AuditKeyCheck& key, std::int64_t from) : store_(store), key_(key), from_(from) {}

  Result<VerifyReport> Run(const std::function<void(std::int64_t)>& progress) {
    CK_RETURN_IF_ERROR(LoadSeals());
    if (!report_.ok()) return report_;
    CK_RETURN_IF_ERROR(LoadAnchor());
    std::int64_t expected = from_;
    std::vector<store::AuditRecord> rows;
    std::size_t at = 0;
    // Up to the head read at the start: records written while this runs are the next run's.
    while (!head_ || expected <= head_->sequence) {
      if (at == rows.size()) {
        CK_ASSIGN_OR_RETURN(rows, store_.ReadAudit(expected, kPage));
        at = 0;
        if (rows.empty()) break;
      }
      const store::AuditRecord& row = rows[at];
      if (row.sequence != expected) {
        return Broken(report_, Break::kDeleted, expected, "record " + std::to_string(expected) + " is missing (the next one is " +
                                                              std::to_string(row.sequence) + ")");
      }
      if (!Chains(previous_, expected, row)) {
        CK_RETURN_IF_ERROR(Classify(rows, at));
        return report_;
      }
      if (next_checkpoint_ != checkpoints_.end() && next_checkpoint_->first == expected) {
        if (next_checkpoint_->second.hash != row.hash) return Rewritten(expected, "the signed checkpoint at " + std::to_string(expected));
        last_checkpoint_ = expected;
        ++report_.checkpoints;
        ++next_checkpoint_;
      }
      before_previous_.swap(previous_);
      previous_.assign(row.hash);
      report_.last = expected;
      ++report_.checked;
      ++expected;
      ++at;
      if (progress && report_.checked % (1 << 20) == 0) progress(report_.checked);
    }
    return CheckEnd();
  }

 private:
  Status LoadSeals() {
    CK_ASSIGN_OR_RETURN(std::vector<store::AuditSeal> checkpoints, store_.AuditCheckpoints(0));
    for (store::AuditSeal& seal : checkpoints) {
      if (!key_.Verify(store::AuditSealMessage(store::SealKind::kCheckpoint, seal), seal.signature)) {
        Broken(report_, Break::kForgedSeal, seal.sequence,
               "the checkpoint at " + std::to_string(seal.sequence) + " is not signed by the audit key");
        return Status::Ok();
      }
      if (seal.sequence < from_) {
        last_checkpoint_ = seal.sequence;
        continue;
      }
      checkpoints_.emplace(seal.sequence, std::move(seal));
    }
    next_checkpoint_ = checkpoints_.begin();
    CK_ASSIGN_OR_RETURN(head_, store_.AuditHead());
    if (head_ && !key_.Verify(store::AuditSealMessage(store::SealKind::kHead, *head_), head_->signature)) {
      Broken(report_, Break::kForgedSeal, head_->sequence, "the head of the trail is not signed by the audit key");
    }
    return Status::Ok();
  }

  // The hashes before `from`: the chain's start, or the stored records before it (trusted).
  Status LoadAnchor() {
    previous_ = std::string(store::kAuditGenesisHash);
    before_previous_.clear();
    if (from_ <= 1) {
      from_ = 1;
      return Status::Ok();
    }
    CK_ASSIGN_OR_RETURN(std::vector<store::AuditRecord> rows, store_.ReadAudit(std::max<std::int64_t>(from_ - 2, 1), 2));
    for (const store::AuditRecord& row : rows) {
      if (row.sequence >= from_) break;
      before_previous_ = std::move(previous_);
      previous_ = row.hash;
    }
    return Status::Ok();
  }

  VerifyReport& Rewritten(std::int64_t at, const std::string& seal) {
    const std::int64_t first = std::max(last_checkpoint_, from_ - 1) + 1;
    return Broken(report_, Break::kRewritten, first,
                  "the records from " + std::to_string(first) + " to " + std::to_string(at) + " chain, but not to " + seal +
                      ": the chain was recomputed after a change in that range");
  }

  // Record `rows[at]` does not match its hash: which change explains it.
  Status Classify(std::vector<store::AuditRecord>& rows, std::size_t at) {
    const std::int64_t s = rows[at].sequence;
    // Enough rows after it to look for a record moved away.
    if (rows.size() - at < kLookahead) {
      CK_ASSIGN_OR_RETURN(std::vector<store::AuditRecord> more, store_.ReadAudit(rows.back().sequence + 1, kLookahead));
      rows.insert(rows.end(), std::make_move_iterator(more.begin()), std::make_move_iterator(more.end()));
    }
    const store::AuditRecord& row = rows[at];
    const store::AuditRecord* next = at + 1 < rows.size() && rows[at + 1].sequence == s + 1 ? &rows[at + 1] : nullptr;
    const std::string n = std::to_string(s);
    if (next != nullptr && Chains(previous_, s, *next)) {
      if (Chains(next->hash, s + 1, row)) {
        Broken(report_, Break::kReordered, s, "records " + n + " and " + std::to_string(s + 1) + " were swapped");
      } else {
        Broken(report_, Break::kInserted, s, "record " + n + " was not written by the server: the record written as " + n +
                                                 " now follows it");
      }
      return Status::Ok();
    }
    if (!before_previous_.empty() && Chains(before_previous_, s - 1, row)) {
      Broken(report_, Break::kInserted, s - 1, "record " + std::to_string(s - 1) + " was not written by the server: the record "
                                               "written as " + std::to_string(s - 1) + " now follows it");
      return Status::Ok();
    }
    for (std::size_t j = at + 1; j < rows.size() && j <= at + kLookahead; ++j) {
      if (Chains(previous_, s, rows[j])) {
        Broken(report_, Break::kReordered, s, "record " + n + " was moved to " + std::to_string(rows[j].sequence));
        return Status::Ok();
      }
    }
    if (next != nullptr && Chains(row.hash, s + 2, *next)) {
      Broken(report_, Break::kDeleted, s, "record " + n + " was deleted and the records after it renumbered");
      return Status::Ok();
    }
    const bool last_row = next == nullptr && head_ && head_->sequence == s && head_->hash == row.hash;
    if ((next != nullptr && Chains(row.hash, s + 1, *next)) || last_row) {
      Broken(report_, Break::kEdited, s, "record " + n + " was changed after it was written");
      return Status::Ok();
    }
    Broken(report_, Break::kEdited, s, "record " + n + " does not match its hash");
    return Status::Ok();
  }

  Result<VerifyReport> CheckEnd() {
    const std::int64_t last = report_.last;
    if (!head_) {
      if (last > 0) Broken(report_, Break::kUnsealed, from_, "the trail has records but no signed head");
      return report_;
    }
    if (last < head_->sequence) {
      return Broken(report_, Break::kTruncated, last + 1,
                    "records " + std::to_string(last + 1) + " to " + std::to_string(head_->sequence) +
                        " are missing from the end (the signed head vouches for " + std::to_string(head_->sequence) + ")");
    }
    if (head_->hash != previous_) return Rewritten(last, "the signed head");
    // Records after the head are the server's only if a newer signed head covers them (it may
    // have written more since this began).
    CK_ASSIGN_OR_RETURN(std::vector<store::AuditRecord> after, store_.ReadAudit(last + 1, 1));
    if (after.empty()) return report_;
    CK_ASSIGN_OR_RETURN(std::optional<store::AuditSeal> newer, store_.AuditHead());
    if (!newer || newer->sequence < after.front().sequence ||
        !key_.Verify(store::AuditSealMessage(store::SealKind::kHead, *newer), newer->signature)) {
      return Broken(report_, Break::kInserted, last + 1,
                    "records after " + std::to_string(last) + " (the signed head) were not written by the server");
    }
    return report_;
  }

  store::ResourceStore& store_;
  const AuditKeyCheck& key_;
  std::int64_t from_;
  VerifyReport report_;
  std::map<std::int64_t, store::AuditSeal> checkpoints_;  // from `from_` on
  std::map<std::int64_t, store::AuditSeal>::const_iterator next_checkpoint_;  // the next one the chain reaches
  std::optional<store::AuditSeal> head_;
  std::int64_t last_checkpoint_ = 0;  // the last checkpoint passed
  std::string previous_;         // hash of the record before the one being checked
  std::string before_previous_;  // and of the one before that ("" if none)
};

}  // namespace

const char* BreakName(Break kind) {
  switch (kind) {
    case Break::kNone: return "none";
    case Break::kEdited: return "edited";
    case Break::kDeleted: return "deleted";
    case Break::kInserted: return "inserted";
    case Break::kReordered: return "reordered";
    case Break::kTruncated: return "truncated";
    case Break::kRewritten: return "rewritten";
    case Break::kForgedSeal: return "forged-seal";
    case Break::kUnsealed: return "unsealed";
  }
  return "unknown";
}

Result<VerifyReport> VerifyTrail(store::ResourceStore& store, const AuditKeyCheck& key, std::int64_t from,
                                 const std::function<void(std::int64_t)>& progress) {
  Verifier verifier(store, key, from);
  return verifier.Run(progress);
}

}  // namespace ck::audit
