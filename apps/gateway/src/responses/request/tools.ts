import { isFunctionTool, Tool, ToolChoice } from '@app/session-store';
import { invalid, isObject } from './json-fields';

/**
 * `tools`: function tools in every mode; hosted tools (web_search, file_search, …) only when the
 * upstream speaks the Responses API, which runs them (passed through unchanged).
 */
export function parseTools(value: unknown, param: string, hostedToolsAllowed: boolean): Tool[] {
  if (!Array.isArray(value)) invalid(`Invalid type for '${param}': expected an array.`, param);
  return value.map((tool, index) => {
    const at = `${param}[${index}]`;
    if (!isObject(tool)) invalid(`Invalid '${at}': expected an object.`, at);
    if (typeof tool.type !== 'string' || tool.type === '')
      invalid(`Missing required parameter: '${at}.type'.`, `${at}.type`);
    if (tool.type !== 'function') {
      if (!hostedToolsAllowed) {
        invalid(
          `Invalid '${at}.type': '${tool.type}' is a hosted tool, which needs an upstream that speaks the Responses API (UPSTREAM_API=responses); this service talks Chat Completions to its upstream, where only function tools exist.`,
          `${at}.type`,
        );
      }
      return { ...tool, type: tool.type };
    }
    const name = tool.name;
    if (typeof name !== 'string' || !/^[A-Za-z0-9_-]{1,64}$/.test(name)) {
      invalid(`Invalid '${at}.name': expected 1-64 letters, digits, _ or -.`, `${at}.name`);
    }
    if (tool.parameters !== undefined && tool.parameters !== null && !isObject(tool.parameters)) {
      invalid(`Invalid '${at}.parameters': expected a JSON schema object.`, `${at}.parameters`);
    }
    return {
      type: 'function',
      name,
      description: typeof tool.description === 'string' ? tool.description : null,
      parameters: isObject(tool.parameters) ? tool.parameters : null,
      strict: typeof tool.strict === 'boolean' ? tool.strict : null,
    };
  });
}

export function parseToolChoice(value: unknown, param: string, tools: Tool[]): ToolChoice {
  if (value === 'none' || value === 'auto' || value === 'required') return value;
  if (isObject(value) && value.type === 'function' && typeof value.name === 'string') {
    if (!tools.some((tool) => isFunctionTool(tool) && tool.name === value.name)) {
      invalid(`Invalid '${param}': no function named '${value.name}' in 'tools'.`, param);
    }
    return { type: 'function', name: value.name };
  }
  if (isObject(value) && value.type === 'allowed_tools') {
    if (value.mode !== 'auto' && value.mode !== 'required') {
      invalid(`Invalid '${param}.mode': expected auto or required.`, `${param}.mode`);
    }
    if (!Array.isArray(value.tools)) invalid(`Invalid '${param}.tools': expected an array.`, `${param}.tools`);
    return { ...value, type: 'allowed_tools' };
  }
  if (isObject(value) && typeof value.type === 'string' && tools.some((tool) => tool.type === value.type)) {
    return { ...value, type: value.type };
  }
  return invalid(
    `Invalid '${param}': expected none, auto, required, {"type":"function","name":...} or a tool type listed in 'tools'.`,
    param,
  );
}
