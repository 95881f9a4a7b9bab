Console.WriteLine("moedapr");
