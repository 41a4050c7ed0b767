/**
 * Music-PAW in the runner: `musicpaw`, pretraining task, on the seeded part-whole music
 * generator by default or on a folder of WAV files (`--data DIR`: `DIR/*.wav`, or
 * `DIR/<label>/*.wav` for labels; `--set wav=DIR` is an alias), validated by the linear
 * probe's style accuracy. `--set objective=clip` trains the no-hierarchy baseline with the
 * same backbone. The clips are the model's own data (the registry's `loadData`), so the run
 * folder describes them.
 * @module
 */

import { register, type RunConfig } from "../../runner/registry.ts";
import { int, num, str } from "../../runner/settings.ts";
import { generatedSet, type MusicSet } from "./clips.ts";
import { wavFolderSet } from "./wav_folder.ts";
import { MUSICPAW_DEFAULTS as d } from "./config.ts";
import { DEFAULT_AUGMENT as a } from "./crops.ts";
import { MusicPawTask } from "./task.ts";

register({
  name: "musicpaw",
  title: "Music-PAW",
  task: "pretrain",
  about: "Music-PAW/MART (arXiv 2312.06197): part-whole crops, cross-attention between " +
    "adjacent levels, hierarchical InfoNCE; linear probe on style",
  data: "a folder of .wav files (DIR/*.wav or DIR/<label>/*.wav); none: the seeded music generator",
  settings: {
    objective: str(d.objective, "paw (hierarchical InfoNCE) or clip (two-view baseline)", [
      "paw",
      "clip",
    ]),
    levels: int(d.levels, "H: level ℓ cuts a clip into 2^ℓ parts"),
    channels: int(d.channels, "backbone conv channels"),
    dim: int(d.dim, "embedding width D (probe features)"),
    projDim: int(d.projDim, "projection head width"),
    heads: int(d.heads, "heads of each part-whole cross-attention"),
    ffn: int(d.ffn, "feed-forward width of each part-whole block"),
    tau: num(d.tau, "InfoNCE temperature"),
    viewFrac: num(0.75, "clip baseline: view length as a fraction of the clip"),
    jitter: num(a.jitter, "crop time jitter (fraction of its length)"),
    noise: num(a.noise, "augmentation: Gaussian noise on normalised log-mels"),
    wav: str("", "alias of --data DIR: a folder of .wav files (subfolders = labels)"),
    maxSeconds: num(10, "WAV folder: clips cut to the shortest file, at most this long"),
    clips: int(160, "generator: number of clips (split 60/20/20 per style)"),
    dataSeed: int(0, "generator: seed of the clips and the split"),
    phrases: int(2, "generator: phrases per clip"),
    bars: int(2, "generator: bars per phrase"),
    beats: int(4, "generator: beats per bar"),
    sampleRate: int(8000, "front end: resample to this rate, Hz"),
    nMels: int(d.nMels, "front end: mel bands"),
    hop: int(256, "front end: hop, samples"),
  },
  training: { lr: 2e-3, batchSize: 32, epochs: 30, patience: 10 },
  tiny: {
    clips: 12,
    phrases: 1,
    bars: 2,
    beats: 2,
    channels: 8,
    dim: 16,
    projDim: 16,
    heads: 2,
    ffn: 16,
    nMels: 16,
  },
  loadData: musicData,
  build: ({ data: set, config: c }) => {
    return new MusicPawTask(set, {
      objective: c.objective,
      levels: c.levels,
      channels: c.channels,
      dim: c.dim,
      projDim: c.projDim,
      heads: c.heads,
      ffn: c.ffn,
      tau: c.tau,
      seed: c.seed,
      viewFrac: c.viewFrac,
      augment: { ...a, jitter: c.jitter, noise: c.noise },
    });
  },
});

/** The clips: the WAV folder of `--data` (or `--set wav=`), else the seeded generator's. */
async function musicData(spec: string | undefined, c: RunConfig): Promise<MusicSet> {
  if (spec && c.wav && spec !== c.wav) {
    throw new Error(
      `wgrec musicpaw: --data ${spec} and --set wav=${c.wav} name two WAV folders; give one`,
    );
  }
  const dir = spec || c.wav;
  const mel = { sampleRate: c.sampleRate, hop: c.hop, nMels: c.nMels };
  if (dir) {
    let st: Deno.FileInfo;
    try {
      st = await Deno.stat(dir);
    } catch {
      throw new Error(`wgrec musicpaw: --data ${dir}: no such folder; expected a folder of .wav`);
    }
    if (!st.isDirectory) {
      throw new Error(`wgrec musicpaw: --data ${dir} is a file; expected a folder of .wav files`);
    }
    return await wavFolderSet(dir, { ...mel, maxSeconds: c.maxSeconds, seed: c.dataSeed });
  }
  return await generatedSet(
    { clips: c.clips, seed: c.dataSeed, phrases: c.phrases, bars: c.bars, beats: c.beats },
    mel,
  );
}
