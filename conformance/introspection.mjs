// What tools see of the schema: runs graphql-js's introspection query (as GraphiQL
// and graphql-codegen send it) against a running portal.
//
//   node introspection.mjs schema <graphql url> <schema.graphql>
//     The full introspection query (every option on) and GraphiQL's own must succeed,
//     and printSchema(buildClientSchema(result)) must equal schema.graphql as
//     graphql-js prints it. Exit 1 with the first differing lines otherwise.
//   node introspection.mjs descriptions <graphql url>
//     Every type, field, argument, input field and enum value of the schema (not the
//     introspection types) has a description. Exit 1 listing the ones without.
import { readFileSync } from 'node:fs';
import { buildClientSchema, buildSchema, getIntrospectionQuery, printSchema } from 'graphql';

const FULL = {
  descriptions: true,
  specifiedByUrl: true,
  directiveIsRepeatable: true,
  schemaDescription: true,
  inputValueDeprecation: true,
};
// What GraphiQL (3.x, 4.x) asks for.
const GRAPHIQL = { inputValueDeprecation: true, schemaDescription: true };

const [mode, url, schemaPath] = process.argv.slice(2);
if (!url || !['schema', 'descriptions'].includes(mode)) {
  console.error('usage: node introspection.mjs schema|descriptions <graphql url> [schema.graphql]');
  process.exit(2);
}

async function introspect(options) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify({ query: getIntrospectionQuery(options), operationName: 'IntrospectionQuery' }),
  });
  const result = await response.json();
  if (result.errors || !result.data) {
    console.log(`introspection with ${JSON.stringify(options)} refused: ${JSON.stringify(result.errors)}`);
    process.exit(1);
  }
  return result.data;
}

// async-graphql 7.2 answers `__schema { description }` with this fixed text (the
// description of the `__Schema` type itself), not a description of this schema; its
// SDL printer rightly leaves it out. Drop it here once async-graphql stops sending it.
const ASYNC_GRAPHQL_SCHEMA_TEXT =
  'A GraphQL Schema defines the capabilities of a GraphQL server. It exposes all available types and directives on the server, as well as the entry points for query, mutation, and subscription operations.';

function withoutBoilerplate(data) {
  if (data.__schema.description !== ASYNC_GRAPHQL_SCHEMA_TEXT) return data;
  return { __schema: { ...data.__schema, description: null } };
}

const strip = (sdl) => sdl.split('\n').map((l) => l.trimEnd()).join('\n').trim();

function compare(served, committed) {
  const a = served.split('\n');
  const b = committed.split('\n');
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if (a[i] !== b[i]) {
      console.log(`schemas differ at line ${i + 1}:\n  served:    ${a[i]}\n  committed: ${b[i]}`);
      process.exit(1);
    }
  }
  console.log(`schema.graphql matches what introspection serves (${a.length} lines)`);
}

// async-graphql 7.2's Connection types take no type description (their fields have
// them); drop these once it accepts one.
// The spec's own scalars are described by the spec.
const UNDESCRIBABLE_TYPES = new Set([
  'ClientConnection',
  'AuditEventConnection',
  'String',
  'Int',
  'Float',
  'Boolean',
  'ID',
]);

function missingDescriptions(data) {
  const missing = [];
  const need = (what, item) => {
    if (!item.description || !item.description.trim()) missing.push(what);
  };
  for (const type of data.__schema.types) {
    if (type.name.startsWith('__')) continue;
    if (!UNDESCRIBABLE_TYPES.has(type.name)) need(type.name, type);
    for (const field of type.fields ?? []) {
      need(`${type.name}.${field.name}`, field);
      for (const arg of field.args) need(`${type.name}.${field.name}(${arg.name})`, arg);
    }
    for (const input of type.inputFields ?? []) need(`${type.name}.${input.name}`, input);
    for (const value of type.enumValues ?? []) need(`${type.name}.${value.name}`, value);
  }
  return missing;
}

await introspect(GRAPHIQL);
const data = await introspect(FULL);
if (mode === 'schema') {
  const served = strip(printSchema(buildClientSchema(withoutBoilerplate(data))));
  const committed = strip(printSchema(buildSchema(readFileSync(schemaPath, 'utf8'))));
  compare(served, committed);
} else {
  const missing = missingDescriptions(data);
  for (const what of missing) console.log(`no description: ${what}`);
  if (missing.length > 0) process.exit(1);
  console.log('every type, field, argument, input field and enum value has a description');
}
