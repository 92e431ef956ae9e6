import { ID_PATTERN } from '@iot-stream/contracts';
import { type Static, Type } from '@sinclair/typebox';

/**
 * The MQTT mapping rules (`mqtt.mappings`): how a device that publishes its own topics and JSON
 * (Tasmota, Shelly, Zigbee2MQTT, ESPHome, SenML) becomes readings. The schema only; what the
 * rules mean and how they are checked beyond it is in sources/mapping/ (README, "MQTT
 * mappings").
 */

const Path = Type.String({
  minLength: 1,
  description:
    'Where a value sits in the JSON payload: keys joined by dots, [n] for an array item, ["a.b"] for any key',
});
const Unit = Type.String({ minLength: 1, maxLength: 32 });

export const MappedMetricSchema = Type.Object(
  {
    path: Path,
    unit: Type.Optional(Unit),
    optional: Type.Optional(
      Type.Boolean({ description: 'Absent from some messages: left out then, not a fault' }),
    ),
  },
  { additionalProperties: false },
);

export const MappingRuleSchema = Type.Object(
  {
    name: Type.String({ pattern: ID_PATTERN, description: 'Names the rule in logs and reasons' }),
    topic: Type.String({
      minLength: 1,
      description:
        'An MQTT topic filter (+, #) in which {device} (required) and {metric} capture a level',
    }),
    format: Type.Union(
      [Type.Literal('json'), Type.Literal('value'), Type.Literal('senml'), Type.Literal('ignore')],
      {
        default: 'json',
        description:
          'json: metrics at paths; value: the payload is one value (21.5, ON); senml: RFC 8428; ignore: the device may publish here, nothing is stored',
      },
    ),
    metrics: Type.Record(Type.String({ pattern: ID_PATTERN }), MappedMetricSchema, {
      default: {},
      description: 'json: metric name -> { path, unit, optional }',
    }),
    metric: Type.String({
      default: '',
      description: 'value: the metric name, or {metric} for the captured level',
    }),
    units: Type.Record(Type.String({ pattern: ID_PATTERN }), Unit, {
      default: {},
      description: 'value: the unit of each metric, by name',
    }),
    time: Type.Optional(
      Type.Object(
        {
          path: Path,
          unit: Type.Union([Type.Literal('s'), Type.Literal('ms')], {
            default: 's',
            description: 'What a number counts; a text may also be ISO 8601 (UTC when no offset)',
          }),
        },
        { additionalProperties: false },
      ),
    ),
    seq: Type.String({
      default: '',
      description: 'json: path of a 0..65535 sequence number, if the device sends one',
    }),
  },
  { additionalProperties: false },
);

export type MappingRule = Static<typeof MappingRuleSchema>;

export const MappingsSchema = Type.Array(MappingRuleSchema, {
  default: [],
  description: 'MQTT mapping rules, first match wins (README, "MQTT mappings")',
});
