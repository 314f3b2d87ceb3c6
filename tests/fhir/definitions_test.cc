#include "fhir/definitions.h"

#include <gtest/gtest.h>

namespace ck::fhir {
namespace {

const Definitions& defs = Definitions::R4();

// FHIR 4.0.1 defines 146 concrete resource types (the package also carries R4B's
// SubscriptionStatus, which is not R4 and is left out).
TEST(DefinitionsTest, KnowsAllConcreteR4ResourceTypes) {
  EXPECT_EQ(defs.ResourceTypes().size(), 146u);
  EXPECT_EQ(defs.FindResourceType("SubscriptionStatus"), nullptr);
  EXPECT_NE(defs.FindResourceType("Patient"), nullptr);
  EXPECT_NE(defs.FindResourceType("VerificationResult"), nullptr);
  EXPECT_EQ(defs.FindResourceType("DomainResource"), nullptr);
  EXPECT_EQ(defs.FindResourceType("HumanName"), nullptr);
  EXPECT_EQ(defs.FindResourceType("Patients"), nullptr);
}

TEST(DefinitionsTest, ResolvesChoiceTypesByJsonName) {
  const TypeDefinition* observation = defs.FindResourceType("Observation");
  const ChildSlot* quantity = observation->structure.Find("valueQuantity");
  ASSERT_NE(quantity, nullptr);
  EXPECT_EQ(quantity->element->path, "Observation.value[x]");
  EXPECT_EQ(quantity->type->name, "Quantity");
  const ChildSlot* extension = observation->structure.Find("_valueString");
  ASSERT_NE(extension, nullptr);
  EXPECT_TRUE(extension->is_primitive_extension);
  EXPECT_EQ(observation->structure.Find("value"), nullptr);
  EXPECT_EQ(observation->structure.Find("valueHumanName"), nullptr);
}

TEST(DefinitionsTest, KnowsCardinalitiesAndBackboneChildren) {
  const TypeDefinition* patient = defs.FindResourceType("Patient");
  const ChildSlot* contact = patient->structure.Find("contact");
  ASSERT_NE(contact, nullptr);
  EXPECT_TRUE(contact->element->IsArray());
  ASSERT_NE(contact->element->inline_children, nullptr);
  EXPECT_NE(contact->element->inline_children->Find("relationship"), nullptr);
  const ChildSlot* link_other = patient->structure.Find("link")->element->inline_children->Find("other");
  EXPECT_EQ(link_other->element->min, 1u);
  EXPECT_FALSE(patient->structure.Find("birthDate")->element->IsArray());
}

// The R4 snapshots type Resource.id as string; the specification says id.
TEST(DefinitionsTest, TypesResourceIdsAsId) {
  EXPECT_EQ(defs.FindResourceType("Patient")->structure.Find("id")->type->name, "id");
  EXPECT_EQ(defs.FindType("Resource")->structure.Find("id")->type->name, "id");
  EXPECT_EQ(defs.FindType("HumanName")->structure.Find("id")->type->name, "string");  // Element.id stays a string
}

TEST(DefinitionsTest, FollowsContentReferences) {
  const TypeDefinition* questionnaire = defs.FindResourceType("Questionnaire");
  const ElementDefinition* item = questionnaire->structure.Find("item")->element;
  const ElementDefinition* nested = item->inline_children->Find("item")->element;
  EXPECT_EQ(nested->inline_children, item->inline_children);
}

TEST(DefinitionsTest, LoadsSearchParameters) {
  bool found = false;
  for (const SearchParameterDefinition& p : defs.SearchParameters()) {
    if (p.code == "birthdate" && p.type == SearchParamType::kDate) found = p.expression.find("Patient.birthDate") != std::string::npos;
  }
  EXPECT_TRUE(found);
  EXPECT_GT(defs.SearchParameters().size(), 1000u);
}

TEST(DefinitionsTest, LoadsInvariants) {
  bool found = false;
  for (const ConstraintDefinition& c : defs.Constraints()) {
    if (c.key == "obs-6") found = c.path == "Observation" && c.expression == "dataAbsentReason.empty() or value.empty()";
  }
  EXPECT_TRUE(found);
  EXPECT_EQ(defs.Constraints().size(), 242u);  // every R4 invariant with an expression, each where it is defined
}

TEST(DefinitionsTest, RejectsMalformedTables) {
  EXPECT_FALSE(Definitions::Parse("X\tnonsense\n"));
  EXPECT_FALSE(Definitions::Parse("T\tFoo\tC\t0\tMissingBase\n"));
  EXPECT_FALSE(Definitions::Parse("T\tFoo\tC\t0\t-\nE\tFoo.bar\t0\t1\tNoSuchType\t-\n"));
}

}  // namespace
}  // namespace ck::fhir
