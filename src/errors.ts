// One error family for everything a user can cause. The CLI top level
// (src/cli/run.ts) prints a UserError as a single line and exits 1; any other
// error is a bug and keeps its stack.
//
//   UserError
//   ├── ConfigError(keyPath)    "config.yaml: training.lr: expected a positive number, got -1"
//   ├── DataFileError(file)     "train-images-idx3-ubyte: truncated: header says ..., file has ..."
//   ├── WeightsFileError(file)  "model.safetensors: header length 9e18 exceeds file size 1024"
//   ├── OutputError(file)       "runs/x/metrics.csv: cannot write: no space left on device (ENOSPC)"
//   ├── MemoryError(subject)    "model 784-1000000-10, batch 100: training needs about 18.75 GiB, more than the 2 GiB memory limit (...)"
//   └── DivergenceError         "training diverged at epoch 3, batch 17: the loss is NaN ..."
//
//   Interrupted (not a UserError): SIGINT/SIGTERM arrived during an output write;
//   the temp file is gone, the target untouched; runCli exits 130.

export class UserError extends Error {
  override name = 'UserError';
}

/** A bad config value. `source` is the file (or "--set") it came from, `keyPath` the dotted key. */
export class ConfigError extends UserError {
  override name = 'ConfigError';
  constructor(
    readonly source: string,
    readonly keyPath: string,
    readonly problem: string,
  ) {
    super(keyPath ? `${source}: ${keyPath}: ${problem}` : `${source}: ${problem}`);
  }
}

/** A damaged or unexpected input data file (IDX, JSON input of mlp-grad). */
export class DataFileError extends UserError {
  override name = 'DataFileError';
  constructor(
    readonly file: string,
    readonly problem: string,
  ) {
    super(`${file}: ${problem}`);
  }
}

/** A damaged or mismatched weights file (safetensors). */
export class WeightsFileError extends UserError {
  override name = 'WeightsFileError';
  constructor(
    readonly file: string,
    readonly problem: string,
  ) {
    super(`${file}: ${problem}`);
  }
}

/** An output file that could not be written (disk full, no permission, a folder in the way). */
export class OutputError extends UserError {
  override name = 'OutputError';
  constructor(
    readonly file: string,
    readonly problem: string,
  ) {
    super(`${file}: ${problem}`);
  }
}

/** A model or run that would need more memory than src/model/memory.ts allows, refused before anything is allocated. */
export class MemoryError extends UserError {
  override name = 'MemoryError';
  constructor(
    readonly subject: string,
    readonly problem: string,
  ) {
    super(`${subject}: ${problem}`);
  }
}

/** Training stopped because the loss or the weights became NaN or infinite. */
export class DivergenceError extends UserError {
  override name = 'DivergenceError';
}

/** A signal stopped an atomic write (src/output/atomic.ts): `file` was not written, its temp file was removed. */
export class Interrupted extends Error {
  override name = 'Interrupted';
  constructor(
    readonly signal: NodeJS.Signals,
    readonly file: string,
  ) {
    super(`${signal}: stopped; ${file} not written (its temp file removed)`);
  }
}
