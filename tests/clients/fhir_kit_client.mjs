// A real FHIR client no one here wrote (fhir-kit-client) against the running server:
// create, read, update, vread, history and delete, checking each answer.
// Usage: node fhir_kit_client.mjs http://127.0.0.1:PORT/fhir
import assert from 'node:assert/strict';
import { Client } from 'fhir-kit-client';

const client = new Client({ baseUrl: process.argv[2] });

const created = await client.create({
  resourceType: 'Patient',
  body: { resourceType: 'Patient', name: [{ family: 'Kit', given: ['Client'] }], birthDate: '1980-02-29' },
});
assert.equal(created.resourceType, 'Patient');
assert.ok(created.id, 'the server assigns an id');
assert.equal(created.meta.versionId, '1');

const read = await client.read({ resourceType: 'Patient', id: created.id });
assert.deepEqual(read, created);

const updated = await client.update({
  resourceType: 'Patient',
  id: created.id,
  body: { ...read, active: true, meta: undefined },
});
assert.equal(updated.meta.versionId, '2');
assert.equal(updated.active, true);

const first = await client.vread({ resourceType: 'Patient', id: created.id, version: '1' });
assert.equal(first.active, undefined);

const history = await client.history({ resourceType: 'Patient', id: created.id });
assert.equal(history.resourceType, 'Bundle');
assert.equal(history.type, 'history');
assert.equal(history.total, 2);
assert.deepEqual(history.entry.map((e) => e.resource.meta.versionId), ['2', '1']);

const typeHistory = await client.typeHistory({ resourceType: 'Patient' });
assert.equal(typeHistory.type, 'history');
assert.ok(typeHistory.entry.length >= 2);  // a type's versions are counted (total) only with _total=accurate

const capabilities = await client.capabilityStatement();
assert.equal(capabilities.fhirVersion, '4.0.1');

await client.delete({ resourceType: 'Patient', id: created.id });
await assert.rejects(client.read({ resourceType: 'Patient', id: created.id }), (error) => {
  assert.equal(error.response.status, 410);
  assert.equal(error.response.data.resourceType, 'OperationOutcome');
  return true;
});
await assert.rejects(client.read({ resourceType: 'Patient', id: 'no-such-patient' }), (error) => error.response.status === 404);
console.log('fhir-kit-client: create, read, update, vread, history, delete all answered as expected');
