// Tensors as the public API exchanges them: a typed view over memory plus a shape. The memory is
// handed to ONNX Runtime as it is (no copy), so a Buffer can be used directly.
import type { NativeElementType, NativeTensor, NativeTensorResult } from '../bindings.js';
import { AicError } from './errors.js';

export type ElementType = NativeElementType;
export type Tensor = NativeTensor;
export type TensorResult<D extends ArrayBufferView = ArrayBufferView> = NativeTensorResult<D>;
export type TensorMap = Record<string, Tensor>;

const TYPED_ARRAY_TYPES: ReadonlyArray<[new (...args: never[]) => ArrayBufferView, ElementType]> = [
  [Float32Array, 'float32'],
  [Uint8Array, 'uint8'],
  [Int8Array, 'int8'],
  [Uint16Array, 'uint16'],
  [Int16Array, 'int16'],
  [Int32Array, 'int32'],
  [BigInt64Array, 'int64'],
];

/**
 * Describes `data` as a tensor of `shape`. The element type follows the TypedArray (a Buffer or
 * Uint8Array is uint8 unless `type` says otherwise, e.g. a Buffer of float32 samples).
 */
export function tensor(data: ArrayBufferView, shape: readonly number[], type?: ElementType): Tensor {
  let resolved = type;
  if (!resolved) {
    for (const [ctor, t] of TYPED_ARRAY_TYPES) {
      if (data instanceof ctor) {
        resolved = t;
        break;
      }
    }
  }
  if (!resolved) throw new AicError('INVALID_ARGUMENT', 'tensor(): pass `type` for this kind of ArrayBufferView');
  return { data, shape: [...shape], type: resolved };
}

/** A Float32Array over the same memory as a float32 result (no copy). */
export function asFloat32(result: TensorResult): Float32Array {
  if (result.type !== 'float32') throw new AicError('INVALID_ARGUMENT', `asFloat32(): the tensor is ${result.type}, not float32`);
  const d = result.data;
  if (d.byteOffset % 4 !== 0) {
    // A Buffer at an odd offset cannot be viewed as floats in place; this is the only copying path.
    return new Float32Array(d.buffer.slice(d.byteOffset, d.byteOffset + d.byteLength));
  }
  return new Float32Array(d.buffer, d.byteOffset, d.byteLength / 4);
}
