import { availableParallelism } from 'node:os';
import { MessageChannel, receiveMessageOnPort, Worker } from 'node:worker_threads';
import { CloudFormationValidatePlugin, type IPolicyValidationContext, type PolicyValidationPluginReport } from 'aws-cdk-lib';

/**
 * CDK's built-in CloudFormation validation (`@aws-cdk/core:validateAgainstDefaultRules`), the same engine, rules and
 * options on every template, run on all cores. Why: it validates one template at a time (~0.12 s each) on the main
 * thread, which made it half of a 500-site synth. It takes the place of the default plugin's instance (below), so CDK
 * still decides when it runs (CDK_VALIDATION, builtinCloudFormationValidation) and treats its report as its own:
 * same name, error/warning handling and acknowledgements.
 *
 * The templates are cut into contiguous shares, one per core: this thread validates the first with the inherited
 * code, worker threads (lib/cfn-validate-worker.cjs) each run a stock CloudFormationValidatePlugin over theirs, and
 * the reports are merged the way the plugin merges templates (one violation per rule, severity and description,
 * its resources in template order), so the report is what one sequential pass gives (validation-report.json of a
 * 50-site synth: byte-identical). Each worker costs ~2.5 s of engine start and ~170 MB: below 2 × 20 templates
 * (`-c site=<id>`, tests) everything runs here, as before.
 */
export class ParallelCloudFormationValidatePlugin extends CloudFormationValidatePlugin {
  constructor(
    /** Fewer templates than this are validated here alone: each worker pays ~2.5 s to compile the engine and rules. */
    private readonly minTemplatesPerWorker = 20,
    private readonly threads = availableParallelism(),
  ) {
    super();
  }

  override validate(context: IPolicyValidationContext): PolicyValidationPluginReport {
    const stacks = context.stackTemplates;
    const shares = Math.max(1, Math.min(this.threads, Math.floor(stacks.length / this.minTemplatesPerWorker)));
    if (shares === 1) return super.validate(context);
    const size = Math.ceil(stacks.length / shares);
    const chunks = Array.from({ length: shares }, (_, index) => stacks.slice(index * size, (index + 1) * size));
    const [own, ...others] = chunks;
    const workers = others.map((share) => startWorker(share));
    const reports = [super.validate({ ...context, templatePaths: own!.map((s) => s.templatePath), stackTemplates: own! })];
    for (const worker of workers) reports.push(worker.result());
    return mergeReports(reports);
  }
}

function startWorker(stackTemplates: IPolicyValidationContext['stackTemplates']): { result(): PolicyValidationPluginReport } {
  const signal = new Int32Array(new SharedArrayBuffer(4));
  const { port1, port2 } = new MessageChannel();
  const worker = new Worker(new URL('./cfn-validate-worker.cjs', import.meta.url), {
    // No tsx loader (the worker is plain JavaScript); the app's own options (e.g. a heap limit) would not fit it either.
    execArgv: [],
    workerData: { port: port2, signal, stackTemplates },
    transferList: [port2],
  });
  return {
    result() {
      // The plugin interface is synchronous: block until the worker has posted (it always does, error or not).
      while (Atomics.load(signal, 0) === 0) {
        if (Atomics.wait(signal, 0, 0, 30 * 60_000) === 'timed-out')
          throw new Error('CloudFormation validation worker: no answer in 30 minutes');
      }
      const message = receiveMessageOnPort(port1)?.message as { report?: PolicyValidationPluginReport; error?: string } | undefined;
      port1.close();
      void worker.terminate();
      if (!message?.report) throw new Error(`CloudFormation validation worker failed: ${message?.error ?? 'no report'}`);
      return message.report;
    },
  };
}

/** As CloudFormationValidatePlugin.validate merges templates: same rule, severity and description → one violation. */
function mergeReports(reports: PolicyValidationPluginReport[]): PolicyValidationPluginReport {
  const violations: PolicyValidationPluginReport['violations'][number][] = [];
  for (const report of reports) {
    for (const violation of report.violations) {
      const existing = violations.find(
        (v) => v.ruleName === violation.ruleName && v.severity === violation.severity && v.description === violation.description,
      );
      if (existing) existing.violatingResources.push(...violation.violatingResources);
      else violations.push(violation);
    }
  }
  return { success: violations.every((v) => v.severity !== 'error' && v.severity !== 'fatal'), violations };
}

/**
 * Makes CDK's auto-registered CloudFormation validation this one. Why not `Validations.of(app).addPlugins(...)`, which
 * also replaces the default: every registered plugin is named in each template's CDK metadata (`Analytics`), so the
 * templates would change; the default's process-wide instance is not named there. That instance is a private static of
 * aws-cdk-lib (`_instance`, returned by `_singletonInstance()`): should it ever move, the check below leaves the stock
 * plugin in place, which validates the same templates, only on one core.
 */
export function useParallelCloudFormationValidation(threads?: number): void {
  const holder = CloudFormationValidatePlugin as unknown as {
    _instance?: CloudFormationValidatePlugin;
    _singletonInstance(): CloudFormationValidatePlugin;
  };
  if (holder._instance instanceof ParallelCloudFormationValidatePlugin) return;
  const previous = holder._instance;
  const parallel = new ParallelCloudFormationValidatePlugin(undefined, threads);
  holder._instance = parallel;
  if (holder._singletonInstance() !== parallel) holder._instance = previous;
  else previous?._dispose();
}
