// Public API of @iot-stream/firmware-protocol. See SPEC.md for the protocol and README.md.

export { type CborDecodeResult, type CborValue, cborDecode } from './cbor.ts';
export { cborEncode } from './cbor-encode.ts';
export { cobsDecode, cobsEncode, cobsMaxEncodedLength } from './cobs.ts';
export { crc32, crc32Update } from './crc.ts';
export {
  type DecodedFrame,
  type DecoderCounters,
  type DecoderEvent,
  type DecoderOptions,
  FrameDecoder,
  newCounters,
  type RejectedFrame,
} from './decoder.ts';
export { encodeFrame, FrameSender, frameWire, tryEncodeFrame } from './encoder.ts';
export {
  type ErrorCode,
  type Failure,
  FRAME_ERROR_CODES,
  type FrameErrorCode,
  type InputErrorCode,
  isFrameErrorCode,
  ProtocolError,
} from './errors.ts';
export { decodeFrameBytes, encodeFrameBytes, type FrameDecodeResult } from './frame.ts';
export {
  CRC_SIZE,
  DEFAULT_MAX_FRAME,
  FLAG_ACK_REQUEST,
  FLAG_RETRANSMIT,
  FLAGS_MUST_UNDERSTAND,
  type FrameHeader,
  HEADER_SIZE,
  MAX_FRAME_LIMIT,
  MIN_FRAME,
  PROTOCOL_VERSION,
} from './header.ts';
export { canonicalJson, eventJson, frameJson, fromHex, statsJson, toHex } from './json.ts';
export { decodeBody } from './message-decode.ts';
export { encodeBody, encodeMessage } from './message-encode.ts';
export {
  type AckBody,
  CAPABILITIES,
  COMMAND_STATUS,
  type CommandBody,
  type CommandResultBody,
  type DataBody,
  type DescribeBody,
  ERROR_MESSAGE_CODES,
  type ErrorBody,
  type Frame,
  type HelloBody,
  type JsonValue,
  LOG_LEVELS,
  type LogBody,
  MESSAGE_TYPES,
  type Message,
  type MessageTypeName,
  messageTypeName,
  type Reading,
  type SensorDescription,
  type TimeRequestBody,
  type TimeResponseBody,
} from './messages.ts';
export {
  type Birth,
  birthTopic,
  buildBirth,
  cmdResultTopic,
  cmdTopic,
  dataBinTopic,
  dataToJson,
  dataTopic,
  formatJsonData,
  isValidDeviceId,
  type JsonCommand,
  type JsonReading,
  lastWill,
  logTopic,
  MAX_METRICS,
  type Metric,
  type ParseResult,
  parseJsonCommand,
  parseJsonData,
  parseTopic,
  type ReadingResult,
  STATE_OFFLINE,
  STATE_ONLINE,
  SUBSCRIPTIONS,
  scaleValue,
  stateTopic,
  TOPIC_KINDS,
  TOPIC_PREFIX,
  type TopicKind,
  topicFor,
} from './mqtt.ts';
export { type SeqStatus, SequenceTracker } from './sequence.ts';
export { timeOffset, UptimeClock } from './time-sync.ts';
