export { tensorboardSource } from './tensorboardSource';
export type { TensorboardSourceOptions } from './tensorboardSource';
export { TfRecordReader, MAX_RECORD_BYTES } from './tfrecord';
export type { TfRecord, TfRecordChunk, TfRecordCut, TfRecordReaderOptions } from './tfrecord';
export { crc32c, maskedCrc32c } from './crc32c';
export {
  decodeEvent,
  tensorScalar,
  isNumericScalarTensor,
  halfToNumber,
  bfloat16ToNumber,
} from './eventProto';
export type { TfEvent, TfSummaryValue, TfTensor, SummaryValueKind } from './eventProto';
export { TensorboardFormatError, ProtobufFormatError } from './TensorboardFormatError';
export { findEventRuns, eventFileHost, isEventFileName } from './findEventRuns';
export type { EventRunDir } from './findEventRuns';
