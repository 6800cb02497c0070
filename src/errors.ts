// One error family for everything a user can cause. The CLI top level
// (src/cli/run.ts) prints a UserError as a single line and exits 1; any other
// error is a bug and keeps its stack.
//
//   UserError
//   ├── ConfigError(keyPath)    "config.yaml: training.lr: expected a positive number, got -1"
//   ├── DataFileError(file)     "train-images-idx3-ubyte: truncated: header says ..., file has ..."
//   ├── WeightsFileError(file)  "model.safetensors: header length 9e18 exceeds file size 1024"
//   ├── OutputError(file)       "runs/x/metrics.csv: cannot write: no space left on device (ENOSPC)"
//   └── DivergenceError         "training diverged at epoch 3, batch 17: the loss is NaN ..."

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

/** Training stopped because the loss or the weights became NaN or infinite. */
export class DivergenceError extends UserError {
  override name = 'DivergenceError';
}
