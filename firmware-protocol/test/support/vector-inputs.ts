// Hand-written inputs of the vectors that must fail (and payloads with unknown keys), used by
// generate-vectors.ts. Hex payloads are CBOR; comments in the names say what is wrong.

import type { MessageTypeName } from '../../src/messages.ts';

export const ignoredKeys: Array<[string, MessageTypeName, string]> = [
  ['data with an unknown key 9', 'data', 'a202a10118d7096178'],
  ['hello with an unknown text key', 'hello', 'a400616101613102006178f6'],
];

export const payloadFail: Array<[string, MessageTypeName, string]> = [
  ['empty payload', 'data', ''],
  ['map count beyond the end', 'data', 'a100'],
  ['reserved additional information', 'data', '1c'],
  ['indefinite-length map', 'data', 'bf02a0ff'],
  ['indefinite-length uint', 'data', '1f'],
  ['break', 'data', 'ff'],
  ['half float', 'data', 'a102f90000'],
  ['undefined', 'data', 'a102f7'],
  ['simple value 32', 'data', 'a102f820'],
  ['tag', 'data', 'c100'],
  ['non-shortest uint8', 'data', 'a1021805'],
  ['non-shortest uint16', 'data', 'a2001900ff02a0'],
  ['non-shortest uint32', 'data', 'a2001a0000ffff02a0'],
  ['non-shortest uint64', 'data', 'a2001b00000000ffffffff02a0'],
  ['non-shortest map length', 'data', 'b8010218'],
  ['non-shortest text length', 'hello', 'a30078036573700161310200'],
  ['uint above 2^53-1', 'data', 'a2001b002000000000000002a0'],
  ['negative int below -(2^53-1)', 'data', 'a102a1013b001fffffffffffff'],
  ['invalid utf-8', 'log', 'a200010162c328'],
  ['overlong utf-8', 'log', 'a200010162c080'],
  ['utf-16 surrogate in utf-8', 'log', 'a200010163eda080'],
  ['duplicate map key', 'data', 'a3000102a002a0'],
  ['map keys out of order', 'data', 'a202a00001'],
  ['text keys out of order (shorter first)', 'data', 'a3626161006162000200'],
  ['negative map key', 'data', 'a12000'],
  ['byte string map key', 'data', 'a1410000'],
  ['array as map key', 'data', 'a1800000'],
  ['trailing bytes', 'data', 'a102a000'],
  ['text length beyond the end', 'log', 'a2000101657878'],
  ['array count beyond the end', 'describe', 'a1008501'],
  ['nesting deeper than 8', 'commandResult', 'a30001010003818181818181818101'],
  ['not a map', 'data', '80'],
  ['hello without deviceId', 'hello', 'a201613102'.concat('00')],
  ['hello deviceId with a space', 'hello', 'a30063612062016131020'.concat('0')],
  ['hello deviceId too long', 'hello', `a3007841${'61'.repeat(65)}0161310200`],
  ['hello capabilities negative', 'hello', 'a30061610161310220'],
  ['hello maxFrame below 254', 'hello', 'a4006161016131020003186f'],
  ['hello firmware not ASCII', 'hello', 'a300616101 62c3a90200'.replace(' ', '')],
  ['describe sensors not an array', 'describe', 'a100a0'],
  ['describe entry not a map', 'describe', 'a1008101'],
  ['describe sensor without name', 'describe', 'a10081a10001'],
  ['describe duplicate alias', 'describe', 'a10082a20001016161a20001016162'],
  ['describe unit with a space', 'describe', 'a10081a3000101616102626120'],
  [
    'describe with 129 sensors',
    'describe',
    `a1009881${Array.from({ length: 129 }, (_, i) => `a200${i < 24 ? i.toString(16).padStart(2, '0') : `18${i.toString(16).padStart(2, '0')}`}016161`).join('')}`,
  ],
  ['describe scale out of range', 'describe', 'a10081a30001016161030d'],
  ['describe scale as text', 'describe', 'a10081a300010161610361 31'.replace(' ', '')],
  ['data without readings', 'data', 'a1001864'],
  ['data readings not a map', 'data', 'a10280'],
  [
    'data with 65 readings',
    'data',
    `a102b841${Array.from({ length: 65 }, (_, i) => `${i < 24 ? i.toString(16).padStart(2, '0') : `18${i.toString(16)}`}01`).join('')}`,
  ],
  ['data alias as text', 'data', 'a102a1616101'],
  ['data alias above 65535', 'data', 'a102a11a0001117001'],
  ['data value as text', 'data', 'a102a1016178'],
  ['data uptime negative', 'data', 'a2002002a0'],
  ['ack cumulative above 65535', 'ack', 'a20000011a00010000'],
  ['ack without session', 'ack', 'a10100'],
  ['log level above 7', 'log', 'a2000801 60'.replace(' ', '')],
  ['command args not a map', 'command', 'a3000101616102 80'.replace(' ', '')],
  ['command args with bytes', 'command', 'a300010161610 2a1616140'.replace(' ', '')],
  ['command args with an integer key', 'command', 'a3000101616102a10000'],
  ['command result with bytes', 'commandResult', 'a30001010003 40'.replace(' ', '')],
  ['command name empty', 'command', 'a200010160'],
];

export const encodeFail: Array<[string, string]> = [
  ['seq above 65535', '{"type":"data","seq":65536,"session":1,"body":{"readings":[]}}'],
  ['negative session', '{"type":"data","seq":0,"session":-1,"body":{"readings":[]}}'],
  ['session not an integer', '{"type":"data","seq":0,"session":1.5,"body":{"readings":[]}}'],
  ['version above 255', '{"version":256,"type":"data","seq":0,"session":1,"body":{"readings":[]}}'],
  ['unknown type name', '{"type":"nope","seq":0,"session":1,"body":{}}'],
  ['missing seq', '{"type":"data","session":1,"body":{"readings":[]}}'],
  ['missing body', '{"type":"data","seq":0,"session":1}'],
  ['body not an object', '{"type":"data","seq":0,"session":1,"body":[]}'],
  [
    'deviceId with a space',
    '{"type":"hello","seq":0,"session":1,"body":{"deviceId":"a b","firmware":"1","capabilities":0}}',
  ],
  [
    'deviceId of 65 characters',
    `{"type":"hello","seq":0,"session":1,"body":{"deviceId":"${'a'.repeat(65)}","firmware":"1","capabilities":0}}`,
  ],
  [
    'maxFrame below 254',
    '{"type":"hello","seq":0,"session":1,"body":{"deviceId":"a","firmware":"1","capabilities":0,"maxFrame":100}}',
  ],
  [
    'firmware not ASCII',
    '{"type":"hello","seq":0,"session":1,"body":{"deviceId":"a","firmware":"é","capabilities":0}}',
  ],
  [
    'capabilities as a string',
    '{"type":"hello","seq":0,"session":1,"body":{"deviceId":"a","firmware":"1","capabilities":"5"}}',
  ],
  [
    'duplicate reading alias',
    '{"type":"data","seq":0,"session":1,"body":{"readings":[[1,1],[1,2]]}}',
  ],
  [
    'reading with three elements',
    '{"type":"data","seq":0,"session":1,"body":{"readings":[[1,1,1]]}}',
  ],
  [
    'reading value not an integer',
    '{"type":"data","seq":0,"session":1,"body":{"readings":[[1,1.5]]}}',
  ],
  [
    'reading value beyond 2^53',
    '{"type":"data","seq":0,"session":1,"body":{"readings":[[1,9007199254740993]]}}',
  ],
  ['alias above 65535', '{"type":"data","seq":0,"session":1,"body":{"readings":[[65536,1]]}}'],
  [
    'scale above 12',
    '{"type":"describe","seq":0,"session":1,"body":{"sensors":[{"alias":1,"name":"t","scale":13}]}}',
  ],
  [
    'duplicate sensor alias',
    '{"type":"describe","seq":0,"session":1,"body":{"sensors":[{"alias":1,"name":"t"},{"alias":1,"name":"u"}]}}',
  ],
  [
    'unit with a space',
    '{"type":"describe","seq":0,"session":1,"body":{"sensors":[{"alias":1,"name":"t","unit":"m s"}]}}',
  ],
  [
    'args not an object',
    '{"type":"command","seq":0,"session":1,"body":{"id":1,"name":"x","args":[1]}}',
  ],
  [
    'args with a fraction',
    '{"type":"command","seq":0,"session":1,"body":{"id":1,"name":"x","args":{"a":0.5}}}',
  ],
  [
    'more than 64 readings',
    `{"type":"data","seq":0,"session":1,"body":{"readings":[${Array.from({ length: 65 }, (_, i) => `[${i},1]`).join(',')}]}}`,
  ],
  [
    'args nested too deep',
    '{"type":"command","seq":0,"session":1,"body":{"id":1,"name":"x","args":{"a":[[[[[[[1]]]]]]]}}}',
  ],
  [
    'lone surrogate in a message',
    '{"type":"log","seq":0,"session":1,"body":{"level":1,"message":"\\ud800"}}',
  ],
  [
    'frame longer than 254 bytes',
    `{"type":"log","seq":0,"session":1,"body":{"level":1,"message":"${'x'.repeat(238)}"}}`,
  ],
  ['not JSON', '{"type":'],
  ['raw that is not hex', '{"raw":"zz"}'],
];
