// Runs ONNX models in onnxruntime-node (the CPU runtime of the npm package) on a CSV of inputs.
// usage: node onnx_run.js ONNXRUNTIME_NODE_DIR INPUT_CSV MODEL.onnx=OUT.csv...
// Each OUT.csv gets one line per input row: the model's "output" values, 9 significant digits.
'use strict';
const fs = require('fs');
const ort = require(process.argv[2]);

async function main() {
  const rows = fs.readFileSync(process.argv[3], 'utf8').trim().split('\n')
                   .map((l) => l.split(',').map(Number));
  const width = rows[0].length;
  const input = new ort.Tensor('float32', Float32Array.from(rows.flat()), [rows.length, width]);
  for (const job of process.argv.slice(4)) {
    const [model, out] = job.split('=');
    const session = await ort.InferenceSession.create(model, {executionProviders: ['cpu']});
    if (session.inputNames[0] !== 'input' || session.outputNames[0] !== 'output')
      throw new Error(model + ': inputs ' + session.inputNames + ', outputs ' + session.outputNames);
    const y = (await session.run({input}))['output'];
    const cols = y.dims[1];
    if (y.dims[0] !== rows.length) throw new Error(model + ': ' + y.dims[0] + ' output rows');
    let text = '';
    for (let r = 0; r < rows.length; ++r)
      text += Array.from(y.data.slice(r * cols, (r + 1) * cols), (v) => v.toPrecision(9)).join(',') +
              '\n';
    fs.writeFileSync(out, text);
  }
}
main().catch((e) => {
  console.error('onnx_run.js: ' + (e && e.stack ? e.stack : e));
  process.exit(1);
});
