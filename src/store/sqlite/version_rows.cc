#include "store/sqlite/version_rows.h"

#include "store/body_codec.h"

namespace ck::store::sqlite {

Result<StoredVersion> ReadVersionRow(const Statement& row) {
  StoredVersion out;
  out.sequence = row.Int(0);
  out.type = row.Text(1);
  out.id = row.Text(2);
  out.version = row.Int(3);
  out.last_updated = row.Int(4);
  out.change = static_cast<ChangeKind>(row.Int(5));
  if (!row.IsNull(7)) {
    CK_ASSIGN_OR_RETURN(out.body, DecodeBody(static_cast<BodyEncoding>(row.Int(6)), row.Text(7)));
  }
  if (!row.IsNull(9)) {
    CK_ASSIGN_OR_RETURN(out.issues, DecodeBody(static_cast<BodyEncoding>(row.Int(8)), row.Text(9)));
  }
  return out;
}

}  // namespace ck::store::sqlite
