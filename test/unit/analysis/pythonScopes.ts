// An independent check of Python name binding for the fix-validity property test: a scope walk
// over the tree-sitter tree (module, function, lambda, class, comprehension scopes; assignment,
// for, with/except `as`, walrus, import, def/class and parameter bindings). It is deliberately
// separate from src/analysis/rules/boundNames.ts, which the rules use and this checks.
import type { Node } from 'web-tree-sitter';

interface Scope {
  kind: 'module' | 'function' | 'class' | 'comprehension';
  parent?: Scope;
  /** Name -> offsets from which it is bound. */
  bindings: Map<string, number[]>;
}

const BUILTINS = new Set(
  (
    'abs all any ascii bin bool breakpoint bytearray bytes callable chr classmethod compile complex delattr dict dir divmod ' +
    'enumerate eval exec filter float format frozenset getattr globals hasattr hash help hex id input int isinstance issubclass ' +
    'iter len list locals map max memoryview min next object oct open ord pow print property range repr reversed round set ' +
    'setattr slice sorted staticmethod str sum super tuple type vars zip __import__ __name__ __file__ __doc__ None True False ' +
    'Exception ValueError TypeError KeyError IndexError RuntimeError NotImplementedError StopIteration AssertionError ' +
    'AttributeError ImportError OSError NotImplemented Ellipsis'
  ).split(' '),
);

const COMPREHENSIONS = new Set(['list_comprehension', 'set_comprehension', 'dictionary_comprehension', 'generator_expression']);
const PATTERNS = new Set(['pattern_list', 'tuple_pattern', 'list_pattern', 'tuple', 'list', 'list_splat_pattern', 'parenthesized_expression', 'list_splat']);

export interface UnboundUse {
  name: string;
  offset: number;
}

/**
 * Identifiers read (not bound, not attribute names, not keyword names) within the given
 * [start, end) ranges that no enclosing scope binds at that point, and that are not builtins.
 */
export function unboundNames(root: Node, ranges: [number, number][]): UnboundUse[] {
  const module: Scope = { kind: 'module', bindings: new Map() };
  const stores = new Set<number>();
  const loads: { node: Node; scope: Scope }[] = [];
  const bind = (scope: Scope, name: string, at: number) => {
    const list = scope.bindings.get(name);
    if (list) list.push(at);
    else scope.bindings.set(name, [at]);
  };
  const bindTargets = (target: Node | null, scope: Scope, at: number) => {
    if (!target) return;
    if (target.type === 'identifier') {
      stores.add(target.id);
      bind(scope, target.text, at);
    } else if (PATTERNS.has(target.type)) {
      for (const c of target.namedChildren) bindTargets(c, scope, at);
    }
  };
  const inRanges = (n: Node) => ranges.some(([s, e]) => n.startIndex < e && n.endIndex > s);

  const walk = (node: Node, scope: Scope): void => {
    switch (node.type) {
      case 'function_definition':
      case 'lambda': {
        const name = node.childForFieldName('name');
        if (name) {
          stores.add(name.id);
          bind(scope, name.text, node.startIndex);
        }
        const inner: Scope = { kind: 'function', parent: scope, bindings: new Map() };
        const params = node.childForFieldName('parameters');
        for (const p of params?.namedChildren ?? []) {
          if (!p) continue;
          const id = p.type === 'identifier' ? p : (p.childForFieldName('name') ?? p.namedChildren.find((c) => c?.type === 'identifier'));
          if (id) {
            stores.add(id.id);
            bind(inner, id.text, node.startIndex);
          }
          // Defaults and annotations are evaluated in the enclosing scope.
          for (const c of p.namedChildren) if (c && c !== id) walk(c, scope);
        }
        for (const c of node.namedChildren) if (c && c !== name && c !== params) walk(c, inner);
        return;
      }
      case 'class_definition': {
        const name = node.childForFieldName('name');
        if (name) {
          stores.add(name.id);
          bind(scope, name.text, node.startIndex);
        }
        const inner: Scope = { kind: 'class', parent: scope, bindings: new Map() };
        for (const c of node.namedChildren) if (c && c !== name) walk(c, c.type === 'block' ? inner : scope);
        return;
      }
      case 'import_statement':
      case 'import_from_statement': {
        for (const n of node.childrenForFieldName('name')) {
          if (!n) continue;
          const local = n.type === 'aliased_import' ? n.childForFieldName('alias') : n.type === 'dotted_name' ? n.namedChildren[0] : n;
          if (local) bind(scope, local.text, node.endIndex);
        }
        if (node.namedChildren.some((c) => c?.type === 'wildcard_import')) bind(scope, '*', node.endIndex);
        return;
      }
      case 'assignment':
      case 'augmented_assignment':
      case 'for_statement':
      case 'for_in_clause': {
        const left = node.childForFieldName('left');
        const at = node.type === 'assignment' || node.type === 'augmented_assignment' ? node.endIndex : (left?.endIndex ?? node.startIndex);
        if (node.type !== 'augmented_assignment') bindTargets(left, scope, at);
        for (const c of node.namedChildren) if (c && (c !== left || node.type === 'augmented_assignment' || !stores.has(c.id))) walk(c, scope);
        return;
      }
      case 'as_pattern': {
        const alias = node.childForFieldName('alias');
        const id = alias?.type === 'as_pattern_target' ? alias.namedChildren[0] : alias;
        if (id) bindTargets(id, scope, node.endIndex);
        for (const c of node.namedChildren) if (c && c !== alias) walk(c, scope);
        return;
      }
      case 'except_clause': {
        let afterAs = false;
        for (const c of node.children) {
          if (!c) continue;
          if (c.type === 'as') afterAs = true;
          else if (afterAs && c.type === 'identifier') {
            bindTargets(c, scope, c.endIndex);
            afterAs = false;
          } else if (c.isNamed) walk(c, scope);
        }
        return;
      }
      case 'named_expression': {
        bindTargets(node.childForFieldName('name'), scope, node.endIndex);
        const value = node.childForFieldName('value');
        if (value) walk(value, scope);
        return;
      }
      case 'global_statement':
      case 'nonlocal_statement':
        for (const c of node.namedChildren) if (c) stores.add(c.id);
        return;
      case 'keyword_argument': {
        const value = node.childForFieldName('value');
        if (value) walk(value, scope);
        return;
      }
      case 'attribute': {
        const object = node.childForFieldName('object');
        if (object) walk(object, scope);
        return;
      }
      case 'identifier':
        if (!stores.has(node.id) && inRanges(node)) loads.push({ node, scope });
        return;
    }
    if (COMPREHENSIONS.has(node.type)) {
      const inner: Scope = { kind: 'comprehension', parent: scope, bindings: new Map() };
      // Bind the loop targets first: the element expression comes before them in the text.
      for (const c of node.namedChildren) if (c?.type === 'for_in_clause') bindTargets(c.childForFieldName('left'), inner, node.startIndex);
      for (const c of node.namedChildren) if (c) walk(c, inner);
      return;
    }
    for (const c of node.namedChildren) if (c) walk(c, scope);
  };
  walk(root, module);

  const out: UnboundUse[] = [];
  for (const { node, scope } of loads) {
    const name = node.text;
    if (BUILTINS.has(name)) continue;
    let bound = false;
    let deferred = false;
    for (let s: Scope | undefined = scope, first = true; s && !bound; s = s.parent, first = false) {
      if (!first && s.kind === 'class') continue;
      const at = s.bindings.get(name) ?? (s.kind === 'module' ? s.bindings.get('*') : undefined);
      if (at) bound = deferred ? true : at.some((o) => o <= node.startIndex);
      if (s.kind === 'function') deferred = true;
    }
    if (!bound) out.push({ name, offset: node.startIndex });
  }
  return out;
}
