// String search's view of text: accents removed, case folded, compatibility forms unified; the
// same for ASCII (a fast path) as for the rest.
#include "search/search_text.h"

#include <gtest/gtest.h>

namespace ck::search {
namespace {

TEST(SearchTextTest, FoldsCaseAndRemovesAccents) {
  EXPECT_EQ(NormalizeForSearch("Smith"), "smith");
  EXPECT_EQ(NormalizeForSearch("MÜLLER"), "muller");
  EXPECT_EQ(NormalizeForSearch("Müller"), "muller");
  EXPECT_EQ(NormalizeForSearch("E\xCC\x81lodie"), "elodie");  // E + combining acute, already decomposed
  EXPECT_EQ(NormalizeForSearch("Élodie"), "elodie");
  EXPECT_EQ(NormalizeForSearch("Straße"), "strasse");
  EXPECT_EQ(NormalizeForSearch("ＦＵＬＬ"), "full");  // full-width letters
  EXPECT_EQ(NormalizeForSearch("Ørsted Ångström"), "ørsted angstrom");  // Ø is a letter of its own, Å is A + ring
  EXPECT_EQ(NormalizeForSearch("Παπαδόπουλος"), "παπαδοπουλοσ");  // case folding makes final sigma σ too
  EXPECT_EQ(NormalizeForSearch(""), "");
  EXPECT_EQ(NormalizeForSearch("12-34 x"), "12-34 x");
}

}  // namespace
}  // namespace ck::search
