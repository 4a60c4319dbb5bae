import type { Node } from 'web-tree-sitter';
import { NameResolver } from '../callNames';
import { type Arg, parseNumber, type Span, spanOf } from '../modelGraph';
import type { RawCall, RawClass, RawFacts } from '../rawFacts';
import { ScopeStack } from '../scopeStack';
import type { NodeText } from './nodeText';

const TYPES = [
  'import_statement', 'import_from_statement', 'class_definition', 'function_definition', 'decorated_definition',
  'for_statement', 'while_statement', 'list_comprehension', 'generator_expression', 'with_statement', 'assignment', 'call',
];

const NO_GRAD = /\b(no_grad|inference_mode)\b/;

/** Reads calls, scopes and imports of a Python file in one pass over the nodes of interest. */
export function extractPython(root: Node, nt: NodeText): RawFacts {
  const resolver = new NameResolver('python');
  const scopes = new ScopeStack();
  const facts: RawFacts = { calls: [], classes: [], functions: [], noGradBlocks: [], epochLoops: [], importLines: [] };
  const assignedAt = new Map<number, string>();
  const topStarts = root.namedChildren.filter((c): c is Node => !!c).map((c) => nt.start(c));
  const topLevelStart = (offset: number): number => {
    let lo = 0;
    let hi = topStarts.length - 1;
    let best = 0;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (topStarts[mid] <= offset) {
        best = topStarts[mid];
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return best;
  };

  for (const node of root.descendantsOfType(TYPES)) {
    if (!node) continue;
    const start = nt.start(node);
    const end = nt.end(node);
    scopes.advance(start);
    switch (node.type) {
      case 'import_statement':
      case 'import_from_statement':
        readImport(node, nt, resolver);
        facts.importLines.push({ text: nt.of(node), start, end });
        break;
      case 'class_definition': {
        const name = nameOf(node, nt);
        const bases = node.childForFieldName('superclasses');
        const cls: RawClass = { name, bases: bases ? nt.of(bases) : '', start, end, topLevelStart: topLevelStart(start) };
        facts.classes.push(cls);
        scopes.push('class', start, end, name);
        break;
      }
      case 'function_definition': {
        const name = nameOf(node, nt);
        facts.functions.push({ name, start, end, className: scopes.current().functionName === undefined ? scopes.current().className : undefined });
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
        const call = readCall(node, start, end, nt, scopes, topLevelStart(start));
        if (call) {
          call.assignedTo = assignedAt.get(start);
          facts.calls.push(call);
        }
        break;
      }
    }
  }
  // Imports may come after use (or inside functions): resolve once they are all known.
  for (const call of facts.calls) call.qualified = resolver.resolve(call.callee);
  return facts;
}

function nameOf(node: Node, nt: NodeText): string {
  const name = node.childForFieldName('name');
  return name ? nt.of(name) : '';
}

function readImport(node: Node, nt: NodeText, resolver: NameResolver): void {
  if (node.type === 'import_statement') {
    for (const name of node.childrenForFieldName('name')) {
      if (!name) continue;
      if (name.type === 'aliased_import') {
        const target = name.childForFieldName('name');
        const alias = name.childForFieldName('alias');
        if (target && alias) resolver.bind(nt.of(alias), squash(nt.of(target)));
      } else {
        const head = squash(nt.of(name)).split('.')[0];
        resolver.bind(head, head);
      }
    }
    return;
  }
  const moduleNode = node.childForFieldName('module_name');
  if (!moduleNode) return;
  const moduleName = squash(nt.of(moduleNode));
  if (node.namedChildren.some((c) => c?.type === 'wildcard_import')) resolver.wildcards.push(moduleName);
  for (const name of node.childrenForFieldName('name')) {
    if (!name) continue;
    const target = name.type === 'aliased_import' ? name.childForFieldName('name') : name;
    const alias = name.type === 'aliased_import' ? name.childForFieldName('alias') : name;
    if (target && alias) resolver.bind(nt.of(alias), `${moduleName}.${squash(nt.of(target))}`);
  }
}

function squash(text: string): string {
  return text.replace(/\s+/g, '');
}

function readCall(node: Node, start: number, end: number, nt: NodeText, scopes: ScopeStack, top: number): RawCall | undefined {
  const fn = node.childForFieldName('function');
  const argList = node.childForFieldName('arguments');
  if (!fn) return undefined;
  const callee = squash(nt.of(fn));
  const dot = callee.lastIndexOf('.');
  const args: Arg[] = [];
  let elements: RawCall['elements'];
  if (argList && argList.type === 'argument_list') {
    for (const child of argList.namedChildren) {
      if (!child || child.type === 'comment') continue;
      if (child.type === 'keyword_argument') {
        const name = child.childForFieldName('name');
        const value = child.childForFieldName('value');
        if (name && value) args.push(arg(value, nt, nt.of(name)));
      } else {
        args.push(arg(child, nt));
        if (args.length === 1 && child.type === 'list') {
          elements = child.namedChildren
            .filter((c): c is Node => !!c && c.type !== 'comment')
            .map((c) => ({ ...spanOf(nt.index, nt.start(c), nt.end(c)), text: nt.of(c) }));
        }
      }
    }
  }
  const pos = nt.index.positionAt(start);
  const lineStart = nt.index.lineStart(pos.line);
  const indent = /^[ \t]*/.exec(nt.index.lineText(pos.line))![0];
  return {
    ...spanOf(nt.index, start, end),
    callee,
    qualified: callee,
    method: dot < 0 ? callee : callee.slice(dot + 1),
    receiver: dot < 0 ? '' : callee.slice(0, dot),
    args,
    argList: argList ? spanOf(nt.index, nt.start(argList), nt.end(argList)) : undefined,
    scope: scopes.current(),
    lineStart,
    indent,
    elements,
    topLevelStart: top,
  };
}

function arg(node: Node, nt: NodeText, name?: string): Arg {
  const start = nt.start(node);
  const end = nt.end(node);
  const text = nt.of(node);
  const span: Span = spanOf(nt.index, start, end);
  return { ...span, ...(name !== undefined ? { name } : {}), text, number: parseNumber(text) };
}
