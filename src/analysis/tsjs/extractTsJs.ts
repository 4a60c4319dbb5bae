import type { Node } from 'web-tree-sitter';
import { tfjsModule } from '../callNames';
import { argOf, elementsOf, makeCall, visitNodes } from '../extractFacts';
import { type Arg, parseNumber, spanOf } from '../modelGraph';
import type { NodeText } from '../python/nodeText';
import { emptyFacts, type RawCall, type RawFacts } from '../rawFacts';
import { ScopeStack } from '../scopeStack';

const TYPES = [
  'import_statement', 'class_declaration', 'function_declaration', 'method_definition', 'arrow_function',
  'function_expression', 'function', 'generator_function_declaration', 'for_statement', 'for_in_statement',
  'while_statement', 'do_statement', 'variable_declarator', 'assignment_expression', 'call_expression',
];

const FUNCTIONS = new Set(['function_declaration', 'method_definition', 'arrow_function', 'function_expression', 'function', 'generator_function_declaration']);
const LOOPS = new Set(['for_statement', 'for_in_statement', 'while_statement', 'do_statement']);

/** Reads the calls, scopes and TF.js imports of one top-level TypeScript or JavaScript statement. */
export function extractTsJsStatement(statement: Node, nt: NodeText, topLevelStart: number): RawFacts {
  const scopes = new ScopeStack();
  const facts = emptyFacts();
  const bind = (local: string, target: string) => facts.bindings.push({ local, target });
  const assignedAt = new Map<number, string>();

  visitNodes(statement, TYPES, nt, scopes, (node, start, end) => {
    const type = node.type;
    if (type === 'import_statement') {
      facts.importLines.push({ text: nt.of(node), start, end });
      const source = node.childForFieldName('source');
      const mod = source ? tfjsModule(unquote(nt.of(source))) : undefined;
      if (!mod) return;
      for (const id of node.descendantsOfType(['namespace_import', 'import_specifier', 'import_clause'])) {
        if (!id) continue;
        if (id.type === 'namespace_import') {
          const local = id.namedChildren.find((c) => c?.type === 'identifier');
          if (local) bind(nt.of(local), mod);
        } else if (id.type === 'import_specifier') {
          const name = id.childForFieldName('name');
          const alias = id.childForFieldName('alias') ?? name;
          if (name && alias) bind(nt.of(alias), `${mod}.${nt.of(name)}`);
        } else {
          // `import tf from '@tensorflow/tfjs'` (default import under esModuleInterop).
          const first = id.namedChildren[0];
          if (first?.type === 'identifier') bind(nt.of(first), mod);
        }
      }
    } else if (type === 'class_declaration') {
      const name = id(node, nt);
      facts.classes.push({ name, bases: '', start, end, topLevelStart });
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
        if (mod && left.type === 'identifier') bind(target, mod);
      }
    } else if (type === 'call_expression') {
      const call = readCall(node, start, end, nt, scopes, topLevelStart);
      if (call) {
        call.assignedTo = assignedAt.get(start);
        facts.calls.push(call);
      }
    }
  });
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
  const args: Arg[] = [];
  let elements: RawCall['elements'];
  let configObject: RawCall['configObject'];
  if (argList && argList.type === 'arguments') {
    let positional = 0;
    for (const child of argList.namedChildren) {
      if (!child || child.type === 'comment') continue;
      positional++;
      args.push(argOf(child, nt));
      if (positional === 1 && child.type === 'array') elements = elementsOf(child, nt);
      if (child.type === 'object') {
        configObject ??= spanOf(nt.index, nt.start(child), nt.end(child));
        for (const prop of child.namedChildren) {
          if (!prop) continue;
          if (prop.type === 'pair') {
            const key = prop.childForFieldName('key');
            const value = prop.childForFieldName('value');
            if (!key || !value) continue;
            const name = unquote(nt.of(key));
            args.push(argOf(value, nt, name));
            if (name === 'layers' && value.type === 'array') elements = elementsOf(value, nt);
          } else if (prop.type === 'shorthand_property_identifier') {
            args.push(argOf(prop, nt, nt.of(prop)));
          }
        }
      }
    }
  }
  const callee = nt.of(fn).replace(/\s+/g, '').replace(/\?\./g, '.');
  return makeCall(callee, start, end, argList, nt, scopes.current(), top, args, elements, configObject);
}
