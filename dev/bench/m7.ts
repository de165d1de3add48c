import { costModel } from './models';
import { measureUnits } from './units';

/*
 * M7 alone (`npx tsx dev/bench/m7.ts [--json]`): the billing units of each request kind on DynamoDB Local and
 * fauxqs, and the cost model over them, without the rest of `npm run bench` — for measuring a change to the
 * write path. Nothing is written to docs/benchmarks.json; the bench proper remains the record.
 */

const units = await measureUnits((line) => process.stderr.write(`${line}\n`));
const cost = costModel(units);
const ours = cost.perMillion.ours;
const floor = cost.perMillion.floor;
const steps = Object.fromEntries(
  Object.entries(units.ours.cases).map(([name, c]) => [
    name,
    {
      received: { wru: c.new.wru, rru: c.new.rru, byTarget: c.new.byTarget },
      projected: { wru: c.projection!.wru, rru: c.projection!.rru, byTarget: c.projection!.byTarget },
      byPlace: c.projectionByPosition,
      duplicate: { wru: c.duplicate.wru, rru: c.duplicate.rru },
      deferred: { wru: c.deferred!.wru, rru: c.deferred!.rru },
      reconciled: { wru: c.reconciled!.wru, rru: c.reconciled!.rru },
    },
  ]),
);
const report = { steps, perMillion: { ours, floor }, floorRatio: ours.total / floor.total };
if (process.argv.includes('--json')) process.stdout.write(`${JSON.stringify(report)}\n`);
else {
  for (const [name, s] of Object.entries(steps)) {
    const u = (x: { wru: number; rru: number }) => `${+x.wru.toFixed(2)} WRU + ${+x.rru.toFixed(2)} RRU`;
    process.stdout.write(
      `${name.padEnd(20)} received ${u(s.received)} · projected ${u(s.projected)} (by place ${s.byPlace!.map((p) => p.wru).join(', ')}) · duplicate ${u(s.duplicate)} · deferred ${u(s.deferred)} · reconciled ${u(s.reconciled)}\n`,
    );
  }
  const usd = (n: number) => `$${n.toFixed(2)}`;
  process.stdout.write(
    `per million at the mix: ours ${usd(ours.total)} (DynamoDB ${usd(ours.dynamodb)}, documents ${usd(ours.dynamodbDocuments)}, Project ${usd(ours.lambdaProject)}), floor ${usd(floor.total)} (DynamoDB ${usd(floor.dynamodb)}): ${report.floorRatio.toFixed(3)} × the floor\n`,
  );
}
