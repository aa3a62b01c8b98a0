package body Stats is

   function Sum (A : Int_Array) return Integer is
      Total : Integer := 0;
   begin
      --  Add every element, from the first index to the last.
      for I in A'First .. A'Last - 1 loop
         Total := Total + A (I);
      end loop;
      return Total;
   end Sum;

   function Max (A : Int_Array) return Integer is
      Best : Integer := A (A'First);
   begin
      for I in A'Range loop
         if A (I) > Best then
            Best := A (I);
         end if;
      end loop;
      return Best;
   end Max;

end Stats;
