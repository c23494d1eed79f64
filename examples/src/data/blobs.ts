import * as tf from '@tensorflow/tfjs';

/**
 * A small classification data set made in code: three Gaussian blobs in the plane, with a
 * seeded generator so every run sees the same data.
 */
export interface Blobs {
  features: number[][];
  labels: number[];
  classes: number;
}

export function makeBlobs(samples: number, seed = 7): Blobs {
  let s = seed;
  const uniform = (): number => (s = (s * 16807) % 2147483647) / 2147483647;
  const normal = (): number =>
    Math.sqrt(-2 * Math.log(uniform() + 1e-12)) * Math.cos(2 * Math.PI * uniform());
  const centers = [
    [-1.5, -1],
    [1.5, -1],
    [0, 1.5],
  ];
  const features: number[][] = [];
  const labels: number[] = [];
  for (let i = 0; i < samples; i++) {
    const c = i % centers.length;
    features.push([centers[c][0] + normal() * 0.9, centers[c][1] + normal() * 0.9]);
    labels.push(c);
  }
  return { features, labels, classes: centers.length };
}

/** A small dense classifier for the blobs: one hidden layer of `units`, softmax over the classes. */
export function blobClassifier(units: number, classes: number, loss: string): tf.Sequential {
  const model = tf.sequential({
    layers: [
      tf.layers.dense({ units, activation: 'relu', inputShape: [2] }),
      tf.layers.dense({ units: classes, activation: 'softmax' }),
    ],
  });
  model.compile({ optimizer: 'adam', loss, metrics: ['accuracy'] });
  return model;
}
