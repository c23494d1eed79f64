import { pathToFileURL } from 'node:url';
import { ProviderPackageNotInstalledError } from '@omega-track/core';

/** What export files use of a Parquet schema element (hyparquet's `SchemaElement`). */
export interface ParquetSchemaElement {
  name: string;
  type?: 'BOOLEAN' | 'INT64' | 'DOUBLE' | 'BYTE_ARRAY';
  repetition_type?: 'REQUIRED' | 'OPTIONAL';
  num_children?: number;
  converted_type?: 'UTF8' | 'TIMESTAMP_MILLIS';
  logical_type?: { type: 'STRING' } | { type: 'TIMESTAMP'; isAdjustedToUTC: boolean; unit: 'MILLIS' };
}

/** One column of a row group as `ParquetWriter.write` takes it. */
export interface ParquetColumnData {
  name: string;
  data: unknown[];
  encoding?: 'PLAIN' | 'BYTE_STREAM_SPLIT';
  statistics?: boolean;
}

/** The part of hyparquet-writer (MIT, pure JS) that export files use. */
export interface ParquetWriterModule {
  ParquetWriter: new (options: {
    writer: unknown;
    schema: ParquetSchemaElement[];
    createdBy?: string;
    kvMetadata?: Array<{ key: string; value?: string }>;
  }) => {
    write(options: { columnData: ParquetColumnData[]; rowGroupSize?: number }): void | Promise<void>;
    finish(): void | Promise<void>;
  };
  fileWriter(filename: string): unknown;
}

/** A file hyparquet reads from, by byte ranges. */
export interface ParquetAsyncBuffer {
  byteLength: number;
  slice(start: number, end?: number): Promise<ArrayBuffer>;
}

/** The parts of a Parquet footer the reader looks at. */
export interface ParquetFileMetaData {
  num_rows: bigint;
  row_groups: Array<{ num_rows: bigint }>;
  schema: Array<{ name: string }>;
}

/** The part of hyparquet (MIT, pure JS) that import of export files uses. */
export interface ParquetReaderModule {
  asyncBufferFromFile(filename: string): Promise<ParquetAsyncBuffer>;
  parquetMetadataAsync(file: ParquetAsyncBuffer): Promise<ParquetFileMetaData>;
  parquetScan(options: {
    file: ParquetAsyncBuffer;
    metadata?: ParquetFileMetaData;
    columns?: string[];
    parsers?: { timestampFromMilliseconds?: (millis: bigint) => unknown };
  }): Promise<{
    metadata: ParquetFileMetaData;
    readColumn(options: { column: string; rowStart: number; rowEnd: number }): Promise<ArrayLike<unknown>>;
  }>;
}

/** hyparquet-writer, loaded when an export is written as Parquet. */
export function loadParquetWriter(): Promise<ParquetWriterModule> {
  return loadEsModule<ParquetWriterModule>('hyparquet-writer', 'writing Parquet export files');
}

/** hyparquet, loaded when a Parquet export is imported. */
export function loadParquetReader(): Promise<ParquetReaderModule> {
  return loadEsModule<ParquetReaderModule>('hyparquet', 'reading Parquet export files');
}

// TypeScript's CommonJS output turns `import()` into `require()`, which cannot load these
// ES-module-only packages before Node 20.19: this `import()` stays a real one. Its text is fixed;
// only the specifier, a resolved file URL, is passed in.
// eslint-disable-next-line @typescript-eslint/no-implied-eval
const nativeImport = new Function('specifier', 'return import(specifier)') as (
  specifier: string,
) => Promise<unknown>;

/**
 * Loads an optional ES-module-only package (an optional peer of omega-track): a missing one is a
 * ProviderPackageNotInstalledError that names the install command.
 */
export async function loadEsModule<T>(packageName: string, feature: string): Promise<T> {
  let file: string;
  try {
    // resolved from here, not from the working directory: the peer sits beside omega-track
    file = require.resolve(packageName);
  } catch {
    throw new ProviderPackageNotInstalledError(feature, packageName);
  }
  try {
    return (await nativeImport(pathToFileURL(file).href)) as T;
  } catch (err) {
    // a host that runs this code in a vm context without a dynamic-import callback (Jest) refuses
    // import(); Node's own require loads ES modules since 20.19 and is reached outside that context
    const code = (err as { code?: unknown }).code;
    const builtin = process.getBuiltinModule?.('node:module');
    if (typeof code === 'string' && code.startsWith('ERR_VM_DYNAMIC_IMPORT_CALLBACK_MISSING') && builtin)
      return builtin.createRequire(__filename)(file) as T;
    throw err;
  }
}
