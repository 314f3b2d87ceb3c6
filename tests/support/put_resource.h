#pragma once
// Stores a hand-made resource where its own JSON says: PUT /fhir/<resourceType>/<id> with the
// body, the way the search tests lay down their fixtures.

#include <string>

#include "support/http_client.h"
#include "support/json.h"

namespace ck::testing {

inline HttpResult PutResource(HttpClient& client, const std::string& body) {
  auto doc = ParseJson(body);
  return client.Put(std::string("/fhir/") + doc["resourceType"].GetString() + "/" + doc["id"].GetString(), body);
}

}  // namespace ck::testing
