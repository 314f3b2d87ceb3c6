// The reference FHIRPath engine (npm `fhirpath` with its R4 model) for the differential test.
// Usage: node reference_engine.mjs <cases.json> <out.ndjson>
// cases.json: {"resources": [resource, ...], "expressions": [{"base": "Observation", "text": "..."}],
//              "pairs": [[resourceIndex, expressionIndex], ...]}
// Writes one line per pair: {"ok": true, "values": [...]} or {"ok": false, "error": "..."}, each
// value normalized as in official_suite's differential comparison: "B:true", "N:1.5", "S:text",
// "J:<canonical JSON of an element>".
import { readFileSync, writeFileSync } from 'node:fs';
import fhirpath from 'fhirpath';
import r4 from 'fhirpath/fhir-context/r4/index.mjs';

const [casesFile, outFile] = process.argv.slice(2);
const cases = JSON.parse(readFileSync(casesFile, 'utf8'));

function canonical(value) {
  if (Array.isArray(value)) return '[' + value.map(canonical).join(',') + ']';
  if (value !== null && typeof value === 'object') {
    return '{' + Object.keys(value).sort().map((k) => JSON.stringify(k) + ':' + canonical(value[k])).join(',') + '}';
  }
  return JSON.stringify(value);
}

function normalize(item) {
  if (typeof item === 'boolean') return 'B:' + item;
  if (typeof item === 'number') return 'N:' + item;
  if (typeof item === 'string') return 'S:' + item;
  if (item && typeof item === 'object' && !Array.isArray(item) && item.constructor && item.constructor.name.startsWith('FP_')) {
    return 'S:' + item.toString();
  }
  return 'J:' + canonical(item);
}

const compiled = cases.expressions.map((e) => {
  try {
    return fhirpath.compile(e.text, r4, { async: true });
  } catch (error) {
    return error;
  }
});
const lines = [];
// resolve() is asynchronous in the reference engine: results may be promises.
for (const [r, e] of cases.pairs) {
  const f = compiled[e];
  if (f instanceof Error) {
    lines.push(JSON.stringify({ ok: false, error: String(f.message).slice(0, 200) }));
    continue;
  }
  try {
    const resource = cases.resources[r];
    const values = await f(resource, { resource, rootResource: resource, context: resource });
    lines.push(JSON.stringify({ ok: true, values: values.map(normalize) }));
  } catch (error) {
    lines.push(JSON.stringify({ ok: false, error: String(error.message).slice(0, 200) }));
  }
}
writeFileSync(outFile, lines.join('\n') + '\n');
