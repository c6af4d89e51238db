// Runs the graphql-http server audits (GraphQL-over-HTTP spec conformance) against a
// running portal and prints one line per audit. Exits 1 when any MUST audit errors,
// 2 on bad usage or a fatal audit failure; SHOULD/MAY warnings are printed, not fatal
// (README "GraphQL over HTTP conformance" lists each one with its reason).
//
//   node conformance/audit.mjs http://127.0.0.1:8000/graphql
import { serverAudits } from 'graphql-http';

const url = process.argv[2];
if (!url) {
  console.error('usage: node audit.mjs <graphql url>');
  process.exit(2);
}

const counts = { ok: 0, notice: 0, warn: 0, error: 0 };
const failedMusts = [];
for (const audit of serverAudits({ url })) {
  let result;
  try {
    result = await audit.fn();
  } catch (err) {
    // A thrown audit is fatal by the library's contract (e.g. the server is not there).
    result = { status: 'error', name: audit.name, id: audit.id, reason: `threw: ${err}` };
  }
  counts[result.status] += 1;
  const reason = result.status === 'ok' ? '' : ` — ${result.reason}`;
  console.log(`${result.status.padEnd(6)} [${audit.id}] ${audit.name}${reason}`);
  if (result.status === 'error' && audit.name.startsWith('MUST')) {
    failedMusts.push(audit.name);
  }
}

console.log(
  `audits: ${counts.ok} ok, ${counts.warn} warn, ${counts.notice} notice, ${counts.error} error`,
);
if (failedMusts.length > 0) {
  console.log(`FAILED: ${failedMusts.length} MUST audit(s) failed`);
  process.exit(1);
}
