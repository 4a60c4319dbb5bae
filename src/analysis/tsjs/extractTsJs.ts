import type { Node } from 'web-tree-sitter';
import { NameResolver, tfjsModule } from '../callNames';
import { type Arg, parseNumber, spanOf } from '../modelGraph';
import type { NodeText } from '../python/nodeText';
import type { RawCall, RawFacts } from '../rawFacts';
import { ScopeStack } from '../scopeStack';

const TYPES = [
  'import_statement', 'class_declaration', 'function_declaration', 'method_definition', 'arrow_function',
  'function_expression', 'function', 'generator_function_declaration', 'for_statement', 'for_in_statement',
  'while_statement', 'do_statement', 'variable_declarator', 'assignment_expression', 'call_expression',
];

const FUNCTIONS = new Set(['function_declaration', 'method_definition', 'arrow_function', 'function_expression', 'function', 'generator_function_declaration']);
const LOOPS = new Set(['for_statement', 'for_in_statement', 'while_statement', 'do_statement']);

/** Reads calls, scopes and TF.js imports of a TypeScript or JavaScript file. */
export function extractTsJs(root: Node, nt: NodeText): RawFacts {
  const resolver = new NameResolver('tsjs');
  const scopes = new ScopeStack();
  const facts: RawFacts = { calls: [], classes: [], functions: [], noGradBlocks: [], epochLoops: [], importLines: [] };
  const assignedAt = new Map<number, string>();
  const topStarts = root.namedChildren.filter((c): c is Node => !!c).map((c) => nt.start(c));
  const topLevelStart = (offset: number): number => {
    let best = 0;
    for (const s of topStarts) {
      if (s > offset) break;
      best = s;
    }
    return best;
  };

  for (const node of root.descendantsOfType(TYPES)) {
    if (!node) continue;
    const start = nt.start(node);
    const end = nt.end(node);
    scopes.advance(start);
    const type = node.type;
    if (type === 'import_statement') {
      facts.importLines.push({ text: nt.of(node), start, end });
      const source = node.childForFieldName('source');
      const mod = source ? tfjsModule(unquote(nt.of(source))) : undefined;
      if (!mod) continue;
      for (const id of node.descendantsOfType(['namespace_import', 'import_specifier', 'import_clause'])) {
        if (!id) continue;
        if (id.type === 'namespace_import') {
          const local = id.namedChildren.find((c) => c?.type === 'identifier');
          if (local) resolver.bind(nt.of(local), mod);
        } else if (id.type === 'import_specifier') {
          const name = id.childForFieldName('name');
          const alias = id.childForFieldName('alias') ?? name;
          if (name && alias) resolver.bind(nt.of(alias), `${mod}.${nt.of(name)}`);
        } else {
          // `import tf from '@tensorflow/tfjs'` (default import under esModuleInterop).
          const first = id.namedChildren[0];
          if (first?.type === 'identifier') resolver.bind(nt.of(first), mod);
        }
      }
    } else if (type === 'class_declaration') {
      const name = id(node, nt);
      facts.classes.push({ name, bases: '', start, end, topLevelStart: topLevelStart(start) });
      scopes.push('class', start, end, name);
    } else if (FUNCTIONS.has(type)) {
      const name = id(node, nt) || assignedAt.get(start) || '';
      facts.functions.push({ name, start, end });
      scopes.push('function', start, end, name);
    } else if (LOOPS.has(type)) {
      scopes.push('loop', start, end);
      if (type === 'for_statement') {
        const header = nt.text.slice(start, Math.min(end, start + 200));
        const m = /for\s*\(\s*(?:let|var)\s+(\w*epoch\w*)\s*=\s*0\s*;\s*\1\s*<\s*([\d_]+)/i.exec(header);
        const count = m ? parseNumber(m[2]) : undefined;
        if (m && count !== undefined) {
          const at = start + m.index + m[0].length - m[2].length;
          facts.epochLoops.push({ count, span: spanOf(nt.index, at, at + m[2].length) });
        }
      }
    } else if (type === 'variable_declarator' || type === 'assignment_expression') {
      const left = node.childForFieldName(type === 'variable_declarator' ? 'name' : 'left');
      const right = node.childForFieldName(type === 'variable_declarator' ? 'value' : 'right');
      if (left && right) {
        const target = nt.of(left).replace(/\s+/g, '');
        assignedAt.set(nt.start(right), target);
        const req = /^require\(\s*(['"])(.+)\1\s*\)$/.exec(nt.of(right));
        const mod = req ? tfjsModule(req[2]) : undefined;
        if (mod && left.type === 'identifier') resolver.bind(target, mod);
      }
    } else if (type === 'call_expression') {
      const call = readCall(node, start, end, nt, scopes, topLevelStart(start));
      if (call) {
        call.assignedTo = assignedAt.get(start);
        facts.calls.push(call);
      }
    }
  }
  for (const call of facts.calls) call.qualified = resolver.resolve(call.callee);
  return facts;
}

function id(node: Node, nt: NodeText): string {
  const name = node.childForFieldName('name');
  return name ? nt.of(name) : '';
}

function unquote(s: string): string {
  return s.replace(/^['"`]|['"`]$/g, '');
}

function readCall(node: Node, start: number, end: number, nt: NodeText, scopes: ScopeStack, top: number): RawCall | undefined {
  const fn = node.childForFieldName('function');
  const argList = node.childForFieldName('arguments');
  if (!fn) return undefined;
  const callee = nt.of(fn).replace(/\s+/g, '').replace(/\?\./g, '.');
  const dot = callee.lastIndexOf('.');
  const args: Arg[] = [];
  let elements: RawCall['elements'];
  let configObject: RawCall['configObject'];
  const toElements = (arr: Node) =>
    arr.namedChildren
      .filter((c): c is Node => !!c && c.type !== 'comment')
      .map((c) => ({ ...spanOf(nt.index, nt.start(c), nt.end(c)), text: nt.of(c) }));
  if (argList && argList.type === 'arguments') {
    let positional = 0;
    for (const child of argList.namedChildren) {
      if (!child || child.type === 'comment') continue;
      positional++;
      args.push(arg(child, nt));
      if (positional === 1 && child.type === 'array') elements = toElements(child);
      if (child.type === 'object') {
        configObject ??= spanOf(nt.index, nt.start(child), nt.end(child));
        for (const prop of child.namedChildren) {
          if (!prop) continue;
          if (prop.type === 'pair') {
            const key = prop.childForFieldName('key');
            const value = prop.childForFieldName('value');
            if (!key || !value) continue;
            const name = unquote(nt.of(key));
            args.push(arg(value, nt, name));
            if (name === 'layers' && value.type === 'array') elements = toElements(value);
          } else if (prop.type === 'shorthand_property_identifier') {
            args.push(arg(prop, nt, nt.of(prop)));
          }
        }
      }
    }
  }
  const pos = nt.index.positionAt(start);
  return {
    ...spanOf(nt.index, start, end),
    callee,
    qualified: callee,
    method: dot < 0 ? callee : callee.slice(dot + 1),
    receiver: dot < 0 ? '' : callee.slice(0, dot),
    args,
    argList: argList ? spanOf(nt.index, nt.start(argList), nt.end(argList)) : undefined,
    configObject,
    scope: scopes.current(),
    lineStart: nt.index.lineStart(pos.line),
    indent: /^[ \t]*/.exec(nt.index.lineText(pos.line))![0],
    elements,
    topLevelStart: top,
  };
}

function arg(node: Node, nt: NodeText, name?: string): Arg {
  const start = nt.start(node);
  const end = nt.end(node);
  const text = nt.of(node);
  return { ...spanOf(nt.index, start, end), ...(name !== undefined ? { name } : {}), text, number: parseNumber(text) };
}
