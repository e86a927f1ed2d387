using System.Runtime.InteropServices;
using Google.Protobuf;
using IlgpuVae.Onnx.Proto;

namespace IlgpuVae.Onnx;

/// <summary>
/// Builds one ONNX graph: float32 inputs and outputs with a dynamic batch dimension "N", initializers, and nodes
/// whose intermediate values get fresh names. Protobuf messages only; what the nodes compute is the exporter's.
/// </summary>
internal sealed class OnnxGraph(string name)
{
    /// <summary>The symbolic batch dimension of every input and output.</summary>
    public const string BatchDimension = "N";

    private readonly GraphProto _graph = new() { Name = name };
    private int _values;

    /// <summary>The graph message.</summary>
    public GraphProto Proto => _graph;

    /// <summary>Declares a graph input of shape (N, <paramref name="width"/>).</summary>
    /// <param name="inputName">Its name.</param>
    /// <param name="width">Features per row.</param>
    /// <param name="description">Its doc string.</param>
    /// <returns>The value's name.</returns>
    public string Input(string inputName, int width, string description)
    {
        _graph.Input.Add(BatchedValue(inputName, width, description));
        return inputName;
    }

    /// <summary>Declares a graph output of shape (N, <paramref name="width"/>) and names the value that feeds it.</summary>
    /// <param name="outputName">The output's name.</param>
    /// <param name="value">The value it is: renamed through an Identity node when the names differ.</param>
    /// <param name="width">Features per row.</param>
    /// <param name="description">Its doc string.</param>
    public void Output(string outputName, string value, int width, string description)
    {
        if (value != outputName)
            Node("Identity", [value], [outputName]);
        _graph.Output.Add(BatchedValue(outputName, width, description));
    }

    /// <summary>Adds a float32 initializer.</summary>
    /// <param name="tensorName">Its name.</param>
    /// <param name="shape">Its shape.</param>
    /// <param name="values">Its values, row-major.</param>
    /// <returns>The name.</returns>
    public string Initializer(string tensorName, long[] shape, ReadOnlySpan<float> values)
    {
        var tensor = new TensorProto
        {
            Name = tensorName,
            DataType = (int)TensorProto.Types.DataType.Float,
            RawData = ByteString.CopyFrom(LittleEndian(values)),
        };
        tensor.Dims.AddRange(shape);
        _graph.Initializer.Add(tensor);
        return tensorName;
    }

    /// <summary>Adds an int64 initializer (shapes and split sizes).</summary>
    /// <param name="tensorName">Its name.</param>
    /// <param name="values">A 1-D tensor's values.</param>
    /// <returns>The name.</returns>
    public string Int64Initializer(string tensorName, params long[] values)
    {
        var tensor = new TensorProto { Name = tensorName, DataType = (int)TensorProto.Types.DataType.Int64 };
        tensor.Dims.Add(values.Length);
        tensor.Int64Data.AddRange(values);
        _graph.Initializer.Add(tensor);
        return tensorName;
    }

    /// <summary>A node with one fresh output.</summary>
    /// <param name="opType">The ONNX operator.</param>
    /// <param name="inputs">Its inputs.</param>
    /// <param name="attributes">Its attributes.</param>
    /// <returns>The output's name.</returns>
    public string Node(string opType, string[] inputs, params AttributeProto[] attributes)
    {
        string output = $"{opType.ToLowerInvariant()}_{_values++}";
        Node(opType, inputs, [output], attributes);
        return output;
    }

    /// <summary>A node with named outputs.</summary>
    /// <param name="opType">The ONNX operator.</param>
    /// <param name="inputs">Its inputs.</param>
    /// <param name="outputs">Its outputs.</param>
    /// <param name="attributes">Its attributes.</param>
    public void Node(string opType, string[] inputs, string[] outputs, params AttributeProto[] attributes)
    {
        var node = new NodeProto { OpType = opType, Name = $"{opType}_{_graph.Node.Count}" };
        node.Input.AddRange(inputs);
        node.Output.AddRange(outputs);
        node.Attribute.AddRange(attributes);
        _graph.Node.Add(node);
    }

    /// <summary>An integer attribute.</summary>
    /// <param name="attributeName">Its name.</param>
    /// <param name="value">Its value.</param>
    /// <returns>The attribute.</returns>
    public static AttributeProto Int(string attributeName, long value) =>
        new() { Name = attributeName, Type = AttributeProto.Types.AttributeType.Int, I = value };

    /// <summary>An integer-list attribute.</summary>
    /// <param name="attributeName">Its name.</param>
    /// <param name="values">Its values.</param>
    /// <returns>The attribute.</returns>
    public static AttributeProto Ints(string attributeName, params long[] values)
    {
        var attribute = new AttributeProto { Name = attributeName, Type = AttributeProto.Types.AttributeType.Ints };
        attribute.Ints.Add(values);
        return attribute;
    }

    private static ValueInfoProto BatchedValue(string valueName, int width, string description)
    {
        var shape = new TensorShapeProto();
        shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimParam = BatchDimension });
        shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = width });
        return new ValueInfoProto
        {
            Name = valueName,
            DocString = description,
            Type = new TypeProto
            {
                TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float, Shape = shape },
            },
        };
    }

    private static byte[] LittleEndian(ReadOnlySpan<float> values)
    {
        var bytes = MemoryMarshal.AsBytes(values).ToArray();
        if (!BitConverter.IsLittleEndian)
        {
            for (int i = 0; i < bytes.Length; i += 4)
                Array.Reverse(bytes, i, 4);
        }
        return bytes;
    }
}
