import type { BundleReport } from './bundle-size';
import type { ColdStartReport } from './cold-start';
import type { HandlerReport } from './handler-cpu';
import type { CapacityModel, CostModel, MemoryModel, ParseCostModel } from './models';
import type { LogBytesReport } from './log-bytes';
import type { OpenLoopReport } from './open-loop';
import type { ParseCostReport } from './parse-cost';
import type { SynthMeasurement } from './synth-fleet';
import type { ThroughputReport } from './throughput';
import type { UnitsReport } from './units';

/*
 * docs/benchmarks.json: what one `npm run bench` run measured (`measured`), what was computed from
 * those measurements and stated inputs (`models`, each with its `inputs`), and which code it was
 * (`run`). docs/performance.md (performance, capacity) and docs/benchmarks.md are generated from
 * it (dev/bench/benchmarks-doc.ts); nothing there is typed by hand.
 */

export interface BenchmarksResult {
  readonly schema: 2;
  readonly run: {
    /** HEAD when the run started. */
    readonly commit: string;
    /** Measured paths (dev/bench/provenance.ts) with uncommitted changes; written only with --allow-dirty. */
    readonly dirty: string[];
    /** Not for publishing: a dirty tree, or a shortened run. */
    readonly provisional: boolean;
    /** The environment variables that shortened this run (dev/bench/run.ts), if any. */
    readonly shortened: string[];
    readonly date: string;
    readonly durationSeconds: number;
    readonly machine: {
      readonly cpus: number;
      readonly cpu: string;
      readonly memoryGiB: number;
      readonly node: string;
      /** 1-minute load average when the run started and ended: other work on the machine skews every time below. */
      readonly loadAverage: { readonly start: number; readonly end: number };
    };
    readonly settings: {
      readonly m3Requests: number;
      readonly m4Seconds: number;
      readonly m6Seconds: number;
      readonly m6RatePerSecond: number;
      readonly coldStartRuns: number;
    };
  };
  readonly measured: {
    readonly M1: Omit<BundleReport, 'deployed' | 'sdkFloor' | 'receiverOnly' | 'projectOnly' | 'projectDynamoDbOnly' | 'peer'> & {
      readonly deployed: BundleSummary & { readonly top: Array<{ name: string; bytes: number }> };
      readonly sdkFloor: BundleSummary;
      readonly receiverOnly: BundleSummary;
      readonly projectOnly: BundleSummary;
      readonly projectDynamoDbOnly: BundleSummary;
      readonly peer: BundleSummary;
    };
    /** Bundles: `ours` (deployed), `receiverOnly`, `projectOnly`, `projectDynamoDbOnly`, `peer`, `sdkFloor`. */
    readonly M2: ColdStartReport;
    readonly M3: Omit<HandlerReport, 'callsNew' | 'callsDuplicate'>;
    readonly M4: ThroughputReport;
    readonly M5: { readonly callsNew: string[]; readonly callsDuplicate: string[]; readonly projectCallsNew: string[] };
    readonly M6: {
      readonly dynamodbLocal: OpenLoopReport & { readonly rate: number; readonly emulator: string };
      readonly dynalite: OpenLoopReport & { readonly rate: number; readonly emulator: string };
      readonly dynamodbLocalLowRate: OpenLoopReport & { readonly rate: number; readonly emulator: string };
    };
    readonly M7: UnitsReport;
    /** The fleet: `cdk synth` of 500 sites (measured), and `fleet plan`'s idle and at-volume cost and first quota (a model). */
    readonly M9: FleetReport;
    /** Parse cost: the slowest valid body at the caps (contract/limits.ts), and the 300,000-key body without them. Absent from runs before it existed. */
    readonly M10?: ParseCostReport;
  };
  readonly models: {
    readonly cost: CostModel;
    readonly lambdaMemory: MemoryModel & {
      /** The same rows in the previous docs/benchmarks.json, where there was one: how far the model moved between runs. */
      readonly previousRun?: {
        readonly commit?: string;
        readonly date: string;
        readonly cpu?: string;
        readonly usdPerMillion: Record<string, number>;
      };
    };
    readonly capacity: CapacityModel;
    /** M10 at a 512 MB Lambda's CPU share, against the receiver's timeout. Absent where M10 is. */
    readonly parseCost?: ParseCostModel;
  };
}

export interface BundleSummary {
  readonly entry: string;
  readonly bytes: number;
  readonly exports: string[];
}

/** M9 (dev/bench/fleet.ts measures it). Here, with the result it is part of, so that fleet.ts reads this module and not the reverse. */
export interface FleetReport {
  /** Measured: `cdk synth` (bundling included) of 500 generated sites, in a child process. */
  readonly synth500: Pick<SynthMeasurement, 'seconds' | 'peakMb' | 'largestProcessMb' | 'stacks' | 'method'>;
  /** A model (fleet/plan.ts) over counts from this commit's synthesised templates and this run's M1/M7. */
  readonly idleUsdPerSiteMonth: { readonly 1: number; readonly 50: number; readonly 500: number };
  readonly usdPerSiteMonthAtVolume: number | null;
  /**
   * What the busy figure holds besides idle and traffic (a model): custom metric series sent every hour, log
   * ingestion and the stated Logs Insights use. Absent in runs before it was recorded.
   */
  readonly busyParts?: {
    readonly customMetricSeries: number;
    readonly customMetricsUsd: number;
    readonly logIngestionUsd: number;
    readonly logsInsightsUsd: number;
  };
  /** Measured: bytes CloudWatch Logs ingests per callback (dev/bench/log-bytes.ts). Absent in runs before it was. */
  readonly logBytes?: LogBytesReport;
  readonly firstDefaultQuotaSite: { readonly site: number; readonly quota: string } | null;
  /** Counted in the synthesised site template: what each site adds to the account. */
  readonly perSite: {
    readonly resources: number;
    readonly iamRoles: number;
    readonly alarms: number;
    readonly eventBridgeRules: number;
    readonly wafWebAcls: number;
  };
  readonly model: { readonly what: string; readonly callbacksPerSiteMonth: number; readonly inputs: readonly string[] };
}
