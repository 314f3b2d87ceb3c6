// Generates src/terminology's UCUM table from the unit definitions of the pinned npm package
// @lhncbc/ucum-lhc (data/ucumDefs.min.json: the UCUM essence, each unit resolved to the seven
// base units). Usage: node gen_ucum.mjs <ucumDefs.min.json> <out.cc>
// Output: one text table (format in src/terminology/ucum.cc), generated at build time, never
// edited by hand.
import { readFileSync } from 'node:fs';
import { writeTextTable } from './text_table.mjs';

const [input, out] = process.argv.slice(2);
const defs = JSON.parse(readFileSync(input, 'utf8'));

// Rows are arrays whose columns the config names; a column may be named by [name, alias].
function rows(section) {
  const names = section.config.map((c) => (Array.isArray(c) ? c[0] : c));
  return section.data.map((row) => Object.fromEntries(names.map((n, i) => [n, row[i]])));
}

const lines = [];
for (const p of rows(defs.prefixes)) {
  lines.push(['P', p.code_, p.value_].join('\t'));
}
// Only UCUM's own atoms: the package also lists LOINC's composite units ("/min", "mg/dL"), which
// the parser builds from the atoms.
for (const u of rows(defs.units)) {
  if (u.source_ !== 'UCUM' && u.source_ !== '') continue;
  const kind = u.isSpecial_ ? `S:${u.cnv_}` : u.isArbitrary_ ? 'A' : '-';
  lines.push(['U', u.csCode_, u.magnitude_, u.dim_.join(','), u.isMetric_ || u.isBase_ ? 1 : 0, kind].join('\t'));
}

writeTextTable(out, {
  origin: 'tools/gen_ucum.mjs from @lhncbc/ucum-lhc',
  namespace: 'ck::terminology',
  symbol: 'kUcumTable',
  lines,
});
