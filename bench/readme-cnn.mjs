// The README's Fashion-MNIST CNN (conv 5×5 32 → pool → conv 5×5 64 → pool → dense 10),
// as the single-purpose bench scripts build it; `front` layers go first (e.g. rescaling).
export function readmeCnn(kiln, front = []) {
  return kiln.sequential({ layers: [
    ...front,
    kiln.layers.conv2d({ ...(front.length ? {} : { inputShape: [28, 28, 1] }), filters: 32, kernelSize: 5, padding: 'same', activation: 'relu' }),
    kiln.layers.maxPooling2d({ poolSize: 2 }),
    kiln.layers.conv2d({ filters: 64, kernelSize: 5, padding: 'same', activation: 'relu' }),
    kiln.layers.maxPooling2d({ poolSize: 2 }),
    kiln.layers.flatten(),
    kiln.layers.dense({ units: 10 }),
  ] });
}
