--  Simple statistics over arrays of integers.
package Stats is

   type Int_Array is array (Positive range <>) of Integer;

   --  Sum of all the elements of A; 0 when A is empty.
   function Sum (A : Int_Array) return Integer;

   --  The largest element of A. A must not be empty.
   function Max (A : Int_Array) return Integer;

end Stats;
