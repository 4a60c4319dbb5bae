import type { Node } from 'web-tree-sitter';
import { argOf, elementsOf, makeCall, visitNodes } from '../extractFacts';
import { type Arg, parseNumber, spanOf } from '../modelGraph';
import { emptyFacts, type ImportFrom, type RawCall, type RawClass, type RawFacts } from '../rawFacts';
import { ScopeStack } from '../scopeStack';
import type { NodeText } from './nodeText';

const TYPES = [
  'import_statement', 'import_from_statement', 'class_definition', 'function_definition', 'decorated_definition',
  'for_statement', 'while_statement', 'list_comprehension', 'generator_expression', 'with_statement', 'assignment', 'call',
];

const NO_GRAD = /\b(no_grad|inference_mode)\b/;

/**
 * Reads the calls, scopes and imports of one top-level Python statement in one pass over the
 * nodes of interest (extractFacts.ts drives it statement by statement and caches the result).
 */
export function extractPythonStatement(statement: Node, nt: NodeText, topLevelStart: number): RawFacts {
  const scopes = new ScopeStack();
  const facts = emptyFacts();
  const assignedAt = new Map<number, string>();

  visitNodes(statement, TYPES, nt, scopes, (node, start, end) => {
    switch (node.type) {
      case 'import_statement':
      case 'import_from_statement':
        readImport(node, nt, facts);
        facts.importLines.push({ text: nt.of(node), start, end });
        break;
      case 'class_definition': {
        const name = nameOf(node, nt);
        const bases = node.childForFieldName('superclasses');
        const cls: RawClass = { name, bases: bases ? nt.of(bases) : '', start, end, topLevelStart };
        facts.classes.push(cls);
        scopes.push('class', start, end, name);
        break;
      }
      case 'function_definition': {
        const name = nameOf(node, nt);
        const outer = scopes.current();
        facts.functions.push({
          name,
          start,
          end,
          className: outer.functionName === undefined ? outer.className : undefined,
          bodyStart: bodyStartOf(node, nt),
          params: paramNames(node, nt),
        });
        scopes.push('function', start, end, name);
        break;
      }
      case 'decorated_definition': {
        const decorators = node.namedChildren.filter((c) => c?.type === 'decorator').map((c) => nt.of(c!));
        if (decorators.some((d) => NO_GRAD.test(d))) {
          scopes.push('nograd', start, end);
          facts.noGradBlocks.push(spanOf(nt.index, start, end));
        }
        break;
      }
      case 'with_statement': {
        const body = node.childForFieldName('body');
        const header = nt.text.slice(start, body ? nt.start(body) : end);
        if (NO_GRAD.test(header)) {
          scopes.push('nograd', start, end);
          facts.noGradBlocks.push(spanOf(nt.index, start, end));
        }
        break;
      }
      case 'for_statement': {
        scopes.push('loop', start, end);
        const left = node.childForFieldName('left');
        const right = node.childForFieldName('right');
        const m = right ? /^range\(\s*(?:\d+\s*,\s*)?([\d_]+)\s*\)$/.exec(nt.of(right)) : null;
        if (left && m && /epoch/i.test(nt.of(left))) {
          const count = parseNumber(m[1]);
          if (count !== undefined) facts.epochLoops.push({ count, span: spanOf(nt.index, nt.start(right!), nt.end(right!)) });
        }
        break;
      }
      case 'while_statement':
      case 'list_comprehension':
      case 'generator_expression':
        scopes.push('loop', start, end);
        break;
      case 'assignment': {
        const left = node.childForFieldName('left');
        const right = node.childForFieldName('right');
        if (left && right) assignedAt.set(nt.start(right), nt.of(left).replace(/\s+/g, ''));
        break;
      }
      case 'call': {
        const call = readCall(node, start, end, nt, scopes, topLevelStart);
        if (call) {
          call.assignedTo = assignedAt.get(start);
          facts.calls.push(call);
        }
        break;
      }
    }
  });
  return facts;
}

function nameOf(node: Node, nt: NodeText): string {
  const name = node.childForFieldName('name');
  return name ? nt.of(name) : '';
}

/** The first body statement that is not the docstring (undefined when there is none). */
function bodyStartOf(fn: Node, nt: NodeText): number | undefined {
  const body = fn.childForFieldName('body');
  if (!body) return undefined;
  const statements = body.namedChildren.filter((c) => c && c.type !== 'comment');
  const first = statements[0];
  const isDocstring = first?.type === 'expression_statement' && first.namedChildren.length === 1 && first.namedChildren[0]?.type === 'string';
  const at = isDocstring ? statements[1] : first;
  return at ? nt.start(at) : undefined;
}

const PARAM_TYPES = new Set(['identifier', 'typed_parameter', 'default_parameter', 'typed_default_parameter', 'list_splat_pattern', 'dictionary_splat_pattern']);

function paramNames(fn: Node, nt: NodeText): string[] {
  const out: string[] = [];
  for (const p of fn.childForFieldName('parameters')?.namedChildren ?? []) {
    if (!p || !PARAM_TYPES.has(p.type)) continue;
    const id = p.type === 'identifier' ? p : (p.childForFieldName('name') ?? p.namedChildren.find((c) => c?.type === 'identifier'));
    if (id) out.push(nt.of(id));
  }
  return out;
}

function readImport(node: Node, nt: NodeText, facts: RawFacts): void {
  const bind = (local: string, target: string) => facts.bindings.push({ local, target });
  if (node.type === 'import_statement') {
    for (const name of node.childrenForFieldName('name')) {
      if (!name) continue;
      if (name.type === 'aliased_import') {
        const target = name.childForFieldName('name');
        const alias = name.childForFieldName('alias');
        if (target && alias) bind(nt.of(alias), squash(nt.of(target)));
      } else {
        // `import torch.nn` binds only `torch`.
        const head = squash(nt.of(name)).split('.')[0];
        bind(head, head);
      }
    }
    return;
  }
  const moduleNode = node.childForFieldName('module_name');
  if (!moduleNode) return;
  const moduleName = squash(nt.of(moduleNode));
  if (node.namedChildren.some((c) => c?.type === 'wildcard_import')) facts.bindings.push({ wildcard: moduleName });
  const from: ImportFrom = { module: moduleName, localNames: [], lastNameEnd: -1 };
  for (const name of node.childrenForFieldName('name')) {
    if (!name) continue;
    const target = name.type === 'aliased_import' ? name.childForFieldName('name') : name;
    const alias = name.type === 'aliased_import' ? name.childForFieldName('alias') : name;
    if (!target || !alias) continue;
    bind(nt.of(alias), `${moduleName}.${squash(nt.of(target))}`);
    from.localNames.push(nt.of(alias));
    from.lastNameEnd = Math.max(from.lastNameEnd, nt.end(name));
  }
  if (from.lastNameEnd >= 0 && moduleNode.type === 'dotted_name') facts.importFroms.push(from);
}

function squash(text: string): string {
  return text.replace(/\s+/g, '');
}

function readCall(node: Node, start: number, end: number, nt: NodeText, scopes: ScopeStack, top: number): RawCall | undefined {
  const fn = node.childForFieldName('function');
  const argList = node.childForFieldName('arguments');
  if (!fn) return undefined;
  const args: Arg[] = [];
  let elements: RawCall['elements'];
  if (argList && argList.type === 'argument_list') {
    for (const child of argList.namedChildren) {
      if (!child || child.type === 'comment') continue;
      if (child.type === 'keyword_argument') {
        const name = child.childForFieldName('name');
        const value = child.childForFieldName('value');
        if (name && value) args.push(argOf(value, nt, nt.of(name)));
      } else {
        args.push(argOf(child, nt));
        if (args.length === 1 && child.type === 'list') elements = elementsOf(child, nt);
      }
    }
  }
  return makeCall(squash(nt.of(fn)), start, end, argList, nt, scopes.current(), top, args, elements, undefined);
}
