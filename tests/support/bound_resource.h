#pragma once
// A resource read and bound for tests of what is checked after reading (validation/): the JSON
// must be valid, which the helper asserts.

#include <gtest/gtest.h>

#include <optional>
#include <string_view>

#include "fhir/json_reader.h"

namespace ck::testing {

inline std::optional<fhir::Resource> BoundResource(std::string_view json) {
  auto resource = fhir::ReadResource(json, fhir::Definitions::R4());
  EXPECT_TRUE(resource) << resource.error().ToString();
  if (!resource) return std::nullopt;
  return std::move(*resource);
}

}  // namespace ck::testing
