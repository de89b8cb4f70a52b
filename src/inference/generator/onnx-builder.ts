import onnxProto from 'onnx-proto';
import { mulberry32 } from '../random.ts';

/*
 * A small ONNX graph builder over the onnx.proto messages (the onnx-proto package), so the
 * test models are built from TypeScript with nothing but npm packages.
 */

const { onnx } = onnxProto;
type IGraphProto = onnxProto.onnx.IGraphProto;
type INodeProto = onnxProto.onnx.INodeProto;
type ITensorProto = onnxProto.onnx.ITensorProto;
type IValueInfoProto = onnxProto.onnx.IValueInfoProto;
type IAttributeProto = onnxProto.onnx.IAttributeProto;

export type DType = 'float32' | 'float16' | 'int64' | 'int32' | 'bool';
export type Dim = number | string;
export type AttrValue = number | number[] | string | Graph | ITensorProto | { floats: number[] } | { float: number };

const ELEM: Record<DType, number> = {
  float32: onnx.TensorProto.DataType.FLOAT,
  float16: onnx.TensorProto.DataType.FLOAT16,
  int64: onnx.TensorProto.DataType.INT64,
  int32: onnx.TensorProto.DataType.INT32,
  bool: onnx.TensorProto.DataType.BOOL,
};

export function valueInfo(name: string, dtype: DType, dims: readonly Dim[]): IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType: ELEM[dtype],
        shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

/** IEEE 754 half from a float (round to nearest even). */
export function toHalf(value: number): number {
  const f = new Float32Array([value]);
  const x = new Uint32Array(f.buffer)[0] as number;
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  let e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant = (mant | 0x800000) >> (1 - e);
    if (mant & 0x1000) mant += 0x2000;
    return sign | (mant >> 13);
  }
  if (mant & 0x1000) {
    mant += 0x2000;
    if (mant & 0x800000) {
      mant = 0;
      e += 1;
      if (e >= 0x1f) return sign | 0x7c00;
    }
  }
  return sign | (e << 10) | (mant >> 13);
}

export function tensorBytes(dtype: DType, values: ArrayLike<number> | BigInt64Array): Uint8Array {
  switch (dtype) {
    case 'float32':
      return new Uint8Array(Float32Array.from(values as ArrayLike<number>).buffer);
    case 'float16': {
      const v = values as ArrayLike<number>;
      const out = new Uint16Array(v.length);
      for (let i = 0; i < v.length; i++) out[i] = toHalf(v[i] as number);
      return new Uint8Array(out.buffer);
    }
    case 'int64':
      return new Uint8Array((values instanceof BigInt64Array ? values : BigInt64Array.from(Array.from(values as ArrayLike<number>, (n) => BigInt(n)))).buffer);
    case 'int32':
      return new Uint8Array(Int32Array.from(values as ArrayLike<number>).buffer);
    case 'bool':
      return Uint8Array.from(values as ArrayLike<number>, (n) => (n ? 1 : 0));
  }
}

interface Initializer {
  name: string;
  dtype: DType;
  dims: number[];
  bytes: Uint8Array;
}

/** A graph (or If branch) under construction. Names are made unique with a shared counter. */
export class Graph {
  readonly nodes: INodeProto[] = [];
  readonly inputs: IValueInfoProto[] = [];
  readonly outputs: IValueInfoProto[] = [];
  readonly initializers: Initializer[] = [];
  private static counter = 0;

  constructor(readonly name: string) {}

  input(name: string, dtype: DType, dims: readonly Dim[]): string {
    this.inputs.push(valueInfo(name, dtype, dims));
    return name;
  }

  output(name: string, dtype: DType, dims: readonly Dim[]): string {
    this.outputs.push(valueInfo(name, dtype, dims));
    return name;
  }

  fresh(prefix: string): string {
    return `${prefix}_${++Graph.counter}`;
  }

  init(prefix: string, dtype: DType, dims: number[], values: ArrayLike<number> | BigInt64Array): string {
    const name = this.fresh(prefix);
    this.initializers.push({ name, dtype, dims, bytes: tensorBytes(dtype, values) });
    return name;
  }

  /** A constant int64 vector (shapes, axes, indices). */
  ints(values: number[]): string {
    return this.init('const', 'int64', [values.length], values);
  }

  scalar(dtype: DType, value: number): string {
    return this.init('scalar', dtype, [], [value]);
  }

  /** Adds a node; returns its single output name (or names when `outputs` is a number > 1). */
  op(opType: string, inputs: string[], attrs: Record<string, AttrValue> = {}, outputs: number | string[] = 1): string {
    return this.opMulti(opType, inputs, attrs, outputs)[0] as string;
  }

  opMulti(opType: string, inputs: string[], attrs: Record<string, AttrValue> = {}, outputs: number | string[] = 1): string[] {
    const outs = typeof outputs === 'number' ? Array.from({ length: outputs }, () => this.fresh(opType.toLowerCase())) : outputs;
    this.nodes.push({
      opType,
      name: this.fresh(`n_${opType}`),
      input: inputs,
      output: outs,
      attribute: Object.entries(attrs).map(([k, v]) => attribute(k, v)),
    });
    return outs;
  }

  /** The GraphProto; initializers above `externalMinBytes` go to `external` (name → bytes). */
  toProto(external?: { file: string; minBytes: number; chunks: Uint8Array[]; offset: number }): IGraphProto {
    return {
      name: this.name,
      node: this.nodes,
      input: this.inputs,
      output: this.outputs,
      initializer: this.initializers.map((t) => {
        const base: ITensorProto = { name: t.name, dataType: ELEM[t.dtype], dims: t.dims };
        if (external && t.bytes.length >= external.minBytes) {
          const pad = (64 - (external.offset % 64)) % 64;
          if (pad) external.chunks.push(new Uint8Array(pad));
          external.offset += pad;
          const entry = [
            { key: 'location', value: external.file },
            { key: 'offset', value: String(external.offset) },
            { key: 'length', value: String(t.bytes.length) },
          ];
          external.chunks.push(t.bytes);
          external.offset += t.bytes.length;
          return { ...base, dataLocation: onnx.TensorProto.DataLocation.EXTERNAL, externalData: entry };
        }
        return { ...base, rawData: t.bytes };
      }),
    };
  }
}

function attribute(name: string, v: AttrValue): IAttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  if (v instanceof Graph) return { name, type: T.GRAPH, g: v.toProto() };
  if (typeof v === 'number') return Number.isInteger(v) ? { name, type: T.INT, i: v } : { name, type: T.FLOAT, f: v };
  if (typeof v === 'string') return { name, type: T.STRING, s: new TextEncoder().encode(v) };
  if (Array.isArray(v)) return { name, type: T.INTS, ints: v };
  if ('floats' in v) return { name, type: T.FLOATS, floats: v.floats };
  if ('float' in v) return { name, type: T.FLOAT, f: v.float };
  return { name, type: T.TENSOR, t: v };
}

/** Serialises a model; returns the .onnx bytes and, when initializers were externalised, the data file's. */
export function serializeModel(graph: Graph, options: { opset?: number; externalDataFile?: string; externalMinBytes?: number } = {}): { model: Uint8Array; data: Uint8Array[] | null } {
  const external = options.externalDataFile ? { file: options.externalDataFile, minBytes: options.externalMinBytes ?? 1024, chunks: [] as Uint8Array[], offset: 0 } : undefined;
  const proto = onnx.ModelProto.create({
    irVersion: 8,
    producerName: 'agentphone-generator',
    opsetImport: [{ domain: '', version: options.opset ?? 17 }],
    graph: graph.toProto(external),
  });
  const model = onnx.ModelProto.encode(proto).finish();
  const data = external && external.chunks.length > 0 ? external.chunks : null;
  return { model, data };
}

/** Deterministic pseudo-random numbers for reproducible weights. */
export const rng = mulberry32;

export function randomValues(count: number, scale: number, next: () => number): Float32Array {
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = (next() * 2 - 1) * scale;
  return out;
}
