// From the config's data section to the Datasets a run uses: the training set
// (limited, then split into train/validation with the model seed) and the test set,
// checked against the network's input and output widths.
import type { Config } from '../config/schema.js';
import { ConfigError } from '../errors.js';
import { Rng, STREAM_SPLIT } from '../rng.js';
import { limitDataset, loadSplit, splitValidation, type Dataset } from './mnist.js';
import { classNames, DATASETS_ROOT, splitFiles, storage } from './presets.js';

export interface RunData {
  train: Dataset | null; // null unless asked for
  validation: Dataset | null;
  test: Dataset | null;
}

/** `source` names the config in errors; `root` is where data.preset looks for the datasets (tests pass their own). */
export function loadRunData(cfg: Config, source: string, which: { train: boolean; test: boolean }, root = DATASETS_ROOT): RunData {
  const layers = cfg.model.layers;
  const classes = layers[layers.length - 1];
  const stored = storage(cfg.data);
  const names = classNames(cfg.data, classes);
  const load = (split: 'train' | 'test'): Dataset => ({ ...loadSplit(splitFiles(cfg.data, split, source, root), split, classes, stored), classes: names });
  let train: Dataset | null = null;
  let validation: Dataset | null = null;
  if (which.train) {
    train = load('train');
    checkInputWidth(train, layers[0], source);
    if (cfg.data.limit > 0 && cfg.data.limit < train.n) train = limitDataset(train, cfg.data.limit);
    if (cfg.data.validation > 0) {
      if (cfg.data.validation >= train.n) {
        throw new ConfigError(source, 'data.validation', `holds out ${cfg.data.validation} of only ${train.n} training samples`);
      }
      ({ train, validation } = splitValidation(train, cfg.data.validation, new Rng(cfg.model.seed, STREAM_SPLIT)));
    }
  }
  let test: Dataset | null = null;
  if (which.test) {
    test = load('test');
    checkInputWidth(test, layers[0], source);
  }
  return { train, validation, test };
}

function checkInputWidth(ds: Dataset, inputs: number, source: string): void {
  if (ds.features !== inputs) {
    throw new ConfigError(
      source,
      'model.layers.0',
      `the input layer has ${inputs} units but the ${ds.name} images have ${ds.features} pixels`,
    );
  }
}
