export * from './types.js';
export * from './manifest.js';
export * from './onnx-model.js';
export * from './phones.js';
