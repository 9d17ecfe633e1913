/**
 * A strict check of a Response object against OpenAI's wire format, the way a validating client does:
 * every field present, of its type, enums within their values. Returns the problems, [] when valid.
 */
type Check = (value: unknown) => boolean;

const isString: Check = (value) => typeof value === 'string';
const isNumber: Check = (value) => typeof value === 'number' && Number.isFinite(value);
const isInteger: Check = (value) => Number.isInteger(value);
const isBoolean: Check = (value) => typeof value === 'boolean';
const isObject: Check = (value) => typeof value === 'object' && value !== null && !Array.isArray(value);
const isArray: Check = (value) => Array.isArray(value);
const oneOf =
  (...values: unknown[]): Check =>
  (value) =>
    values.includes(value);
const nullOr =
  (check: Check): Check =>
  (value) =>
    value === null || check(value);

const ERROR_CODES = ['server_error', 'rate_limit_exceeded', 'invalid_prompt'];

const FIELDS: Record<string, Check> = {
  id: (value) => typeof value === 'string' && value.startsWith('resp_'),
  object: oneOf('response'),
  created_at: isInteger,
  status: oneOf('completed', 'failed', 'in_progress', 'cancelled', 'queued', 'incomplete'),
  background: isBoolean,
  completed_at: nullOr(isInteger),
  conversation: nullOr(isObject),
  error: nullOr((value) => isObject(value) && ERROR_CODES.includes((value as { code: string }).code)),
  incomplete_details: nullOr((value) => isObject(value)),
  instructions: nullOr((value) => isString(value) || isArray(value)),
  max_output_tokens: nullOr(isInteger),
  max_tool_calls: nullOr(isInteger),
  model: isString,
  output: isArray,
  parallel_tool_calls: isBoolean,
  previous_response_id: nullOr(isString),
  prompt_cache_key: nullOr(isString),
  reasoning: (value) =>
    isObject(value) &&
    nullOr(oneOf('none', 'minimal', 'low', 'medium', 'high', 'xhigh'))((value as { effort: unknown }).effort) &&
    nullOr(oneOf('auto', 'concise', 'detailed'))((value as { summary: unknown }).summary),
  safety_identifier: nullOr(isString),
  service_tier: oneOf('auto', 'default', 'flex', 'scale', 'priority'),
  store: isBoolean,
  temperature: isNumber,
  text: (value) =>
    isObject(value) &&
    isObject((value as { format: unknown }).format) &&
    oneOf('low', 'medium', 'high')((value as { verbosity: unknown }).verbosity),
  tool_choice: (value) => oneOf('none', 'auto', 'required')(value) || isObject(value),
  tools: isArray,
  top_logprobs: isInteger,
  top_p: isNumber,
  truncation: oneOf('auto', 'disabled'),
  metadata: isObject,
  user: nullOr(isString),
  usage: nullOr(isObject),
  prompt: nullOr(isObject),
  presence_penalty: isNumber,
  frequency_penalty: isNumber,
};

export function wireResponseProblems(response: unknown): string[] {
  if (!isObject(response)) return ['not an object'];
  const fields = response as Record<string, unknown>;
  const problems = Object.entries(FIELDS).flatMap(([name, check]) => {
    if (!(name in fields)) return [`${name} is missing`];
    return check(fields[name]) ? [] : [`${name} is invalid: ${JSON.stringify(fields[name])}`];
  });
  const finished = fields.status === 'completed' || fields.status === 'incomplete';
  if (finished && !isObject(fields.usage)) problems.push('usage is missing from a finished response');
  if (fields.status === 'completed' && !isInteger(fields.completed_at)) problems.push('completed_at is not set');
  return problems;
}
