using System.Reflection;
using System.Reflection.Emit;

namespace IlgpuVae.Tests.Models;

/// <summary>
/// Which namespaces of an assembly use which: from every type's base type, interfaces, fields, properties, method
/// signatures and the types and members its method bodies name (the IL's tokens), compiler-generated types counted
/// as their declaring type's.
/// </summary>
internal static class NamespaceGraph
{
    private static readonly Dictionary<short, OpCode> OpCodesByValue = typeof(OpCodes)
        .GetFields(BindingFlags.Public | BindingFlags.Static)
        .Select(f => (OpCode)f.GetValue(null)!)
        .ToDictionary(o => o.Value);

    /// <summary>Edges "from -> to" between the assembly's own namespaces under <paramref name="root"/>.</summary>
    public static SortedSet<(string From, string To)> Edges(Assembly assembly, string root)
    {
        var edges = new SortedSet<(string, string)>();
        foreach (var type in assembly.GetTypes())
        {
            string? from = Outermost(type).Namespace;
            if (from is null || !from.StartsWith(root, StringComparison.Ordinal))
                continue;
            foreach (var used in Uses(type))
            {
                string? to = Outermost(used).Namespace;
                if (to is not null && to != from && to.StartsWith(root, StringComparison.Ordinal) && used.Assembly == assembly)
                    edges.Add((from, to));
            }
        }
        return edges;
    }

    /// <summary>The cycles of the graph, as the namespaces of each strongly connected component of two or more.</summary>
    public static List<List<string>> Cycles(SortedSet<(string From, string To)> edges)
    {
        var nodes = edges.SelectMany(e => new[] { e.From, e.To }).Distinct().Order(StringComparer.Ordinal).ToList();
        var next = nodes.ToDictionary(n => n, n => edges.Where(e => e.From == n).Select(e => e.To).ToList());
        bool Reaches(string a, string b)
        {
            var seen = new HashSet<string>();
            var stack = new Stack<string>([a]);
            while (stack.Count > 0)
                foreach (var n in next[stack.Pop()])
                {
                    if (n == b)
                        return true;
                    if (seen.Add(n))
                        stack.Push(n);
                }
            return false;
        }
        var components = new List<List<string>>();
        var placed = new HashSet<string>();
        foreach (var n in nodes.Where(n => !placed.Contains(n)))
        {
            var component = nodes.Where(m => m == n || (Reaches(n, m) && Reaches(m, n))).ToList();
            placed.UnionWith(component);
            if (component.Count > 1)
                components.Add(component);
        }
        return components;
    }

    private static Type Outermost(Type type)
    {
        while (type.IsNested)
            type = type.DeclaringType!;
        return type;
    }

    private static IEnumerable<Type> Uses(Type type)
    {
        const BindingFlags all = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;
        var found = new List<Type>();
        void Add(Type? t)
        {
            if (t is null)
                return;
            if (t.HasElementType)
            {
                Add(t.GetElementType());
                return;
            }
            if (t.IsGenericType && !t.IsGenericTypeDefinition)
                foreach (var argument in t.GetGenericArguments())
                    Add(argument);
            if (!t.IsGenericParameter)
                found.Add(t.IsGenericType ? t.GetGenericTypeDefinition() : t);
        }
        Add(type.BaseType);
        foreach (var i in type.GetInterfaces())
            Add(i);
        foreach (var f in type.GetFields(all))
            Add(f.FieldType);
        foreach (var p in type.GetProperties(all))
            Add(p.PropertyType);
        foreach (var method in type.GetMethods(all).Cast<MethodBase>().Concat(type.GetConstructors(all)))
        {
            if (method is MethodInfo info)
                Add(info.ReturnType);
            foreach (var p in method.GetParameters())
                Add(p.ParameterType);
            foreach (var member in BodyTokens(method))
                Add(member as Type ?? member.DeclaringType);
        }
        return found;
    }

    // The members and types that a method body's instructions name.
    private static IEnumerable<MemberInfo> BodyTokens(MethodBase method)
    {
        byte[]? il;
        try
        {
            il = method.GetMethodBody()?.GetILAsByteArray();
        }
        catch (Exception ex) when (ex is InvalidOperationException or NotSupportedException)
        {
            il = null;
        }
        if (il is null)
            yield break;
        var typeArguments = method.DeclaringType?.IsGenericType == true ? method.DeclaringType.GetGenericArguments() : null;
        var methodArguments = method.IsGenericMethod ? method.GetGenericArguments() : null;
        int i = 0;
        while (i < il.Length)
        {
            short value = il[i] == 0xFE && i + 1 < il.Length ? (short)(0xFE00 | il[i + 1]) : il[i];
            if (!OpCodesByValue.TryGetValue(value, out var op))
                yield break;
            i += op.Size;
            int operand = op.OperandType switch
            {
                OperandType.InlineNone => 0,
                OperandType.ShortInlineBrTarget or OperandType.ShortInlineI or OperandType.ShortInlineVar => 1,
                OperandType.InlineVar => 2,
                OperandType.InlineI8 or OperandType.InlineR => 8,
                OperandType.InlineSwitch => 4 + 4 * BitConverter.ToInt32(il, i),
                _ => 4,
            };
            if (op.OperandType is OperandType.InlineMethod or OperandType.InlineField or OperandType.InlineType or OperandType.InlineTok)
            {
                MemberInfo? member = null;
                try
                {
                    member = method.Module.ResolveMember(BitConverter.ToInt32(il, i), typeArguments, methodArguments);
                }
                catch (Exception ex) when (ex is ArgumentException or BadImageFormatException or TypeLoadException)
                {
                }
                if (member is not null)
                    yield return member;
            }
            i += operand;
        }
    }
}
