/**
 * An ESLint rule: no `obj[key]` on a plain object with a string index (`Record<string, T>`) when the key is any
 * string. Such a key may come from a request, and then finds `toString`, `constructor` or `__proto__`: a Map, a
 * typed key (a union of literals) or `Object.hasOwn` first is what to use instead.
 */
import { ESLintUtils } from '@typescript-eslint/utils';
import ts from 'typescript';

export default ESLintUtils.RuleCreator.withoutDocs({
  meta: {
    type: 'problem',
    messages: {
      keyed:
        "Indexing a plain object by a string that may come from input finds prototype keys ('toString', '__proto__'): use a Map, a literal-typed key, or Object.hasOwn first.",
    },
    schema: [],
  },
  defaultOptions: [],
  create(context) {
    const services = ESLintUtils.getParserServices(context);
    const checker = services.program.getTypeChecker();
    /** `Object.hasOwn(obj, key) ? obj[key] : …`, `Object.hasOwn(obj, key) && obj[key]` or `if (Object.hasOwn(…)) …`. */
    const hasOwnGuarded = (node) => {
      for (let p = node.parent; p; p = p.parent) {
        const test =
          p.type === 'ConditionalExpression' || p.type === 'IfStatement'
            ? p.test
            : p.type === 'LogicalExpression' && p.operator === '&&'
              ? p.left
              : null;
        if (test) return test !== node && context.sourceCode.getText(test).includes('Object.hasOwn(');
      }
      return false;
    };
    return {
      MemberExpression(node) {
        if (!node.computed) return;
        const keyType = checker.getTypeAtLocation(services.esTreeNodeToTSNodeMap.get(node.property));
        const isWideString = (t) =>
          (t.flags & ts.TypeFlags.String) !== 0 || (t.isUnion() && t.types.some(isWideString));
        if (!isWideString(keyType)) return;
        const objectType = checker.getTypeAtLocation(services.esTreeNodeToTSNodeMap.get(node.object));
        if (checker.isArrayType(objectType) || checker.isTupleType(objectType)) return;
        if (!checker.getIndexInfoOfType(objectType, ts.IndexKind.String)) return;
        if (hasOwnGuarded(node)) return;
        context.report({ node, messageId: 'keyed' });
      },
    };
  },
});
